/* The command line: global flags, the command table (with docker's
 * management-command spellings such as "container ls"), --help, and the
 * error wording and exit statuses docker uses for flag and usage errors. */
#include "cli/cli.h"
#include "cli/cli-kube.h"
#include <signal.h>
#include <stdarg.h>

struct cli_command {
        const char *name;
        cli_cmd_fn fn;
        const char *usage;
        const char *summary;
        const char *options;
};

static const struct cli_command commands[] = {
        { "attach", cmd_attach, "attach [OPTIONS] CONTAINER",
          "Attach local standard input, output, and error streams to a running container",
          "      --detach-keys string   Override the key sequence for detaching a container\n"
          "      --no-stdin             Do not attach STDIN\n"
          "      --sig-proxy            Proxy all received signals to the process (default true)\n" },
        { "build", cmd_build, "build [OPTIONS] PATH | -", "Build an image from a Dockerfile",
          "      --build-arg list      Set build-time variables\n"
          "      --check               Only lint the Dockerfile: the daemon's best-practice rules, no image\n"
          "  -f, --file string         Name of the Dockerfile (Default is \"PATH/Dockerfile\")\n"
          "      --force-rm            Always remove intermediate containers\n"
          "      --iidfile string      Write the image ID to the file\n"
          "      --label list          Set metadata for an image\n"
          "      --network string      Set the networking mode for the RUN instructions during build (\"none\", \"host\")\n"
          "      --no-cache            Do not use cache when building the image\n"
          "      --platform string     Set platform if server is multi-platform capable\n"
          "      --pull                Always attempt to pull a newer version of the image\n"
          "  -q, --quiet               Suppress the build output and print image ID on success\n"
          "      --reproducible        The same image from the same context: SOURCE_DATE_EPOCH (from the\n"
          "                            environment, else 0) fixes times; without it the variable is passed on\n"
          "      --rm                  Remove intermediate containers after a successful build (default true)\n"
          "  -t, --tag list            Name and optionally a tag in the \"name:tag\" format\n"
          "      --target string       Set the target build stage to build.\n" },
        { "commit", cmd_commit, "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
          "Create a new image from a container's changes",
          "  -a, --author string    Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
          "  -c, --change list      Apply Dockerfile instruction to the created image\n"
          "  -m, --message string   Commit message\n"
          "  -p, --pause            Pause container during commit (default true)\n" },
        { "cp", cmd_cp, "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
          "Copy files/folders between a container and the local filesystem",
          "  -a, --archive       Archive mode (copy all uid/gid information)\n"
          "  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
          "  -q, --quiet         Suppress progress output during copy\n" },
        { "create", cmd_create, "create [OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",
          "  (the options of run, except -d and --rm)\n" },
        { "events", cmd_events, "events [OPTIONS]", "Get real time events from the server",
          "  -f, --filter filter   Filter output based on conditions provided\n"
          "      --format string   Format output using a template, or \"json\"\n"
          "      --since string    Show all events created since timestamp\n"
          "      --until string    Stream events until this timestamp\n" },
        { "exec", cmd_exec, "exec [OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container",
          "  -d, --detach               Detached mode: run command in the background\n"
          "      --detach-keys string   Override the key sequence for detaching a container\n"
          "  -e, --env list             Set environment variables\n"
          "      --env-file list        Read in a file of environment variables\n"
          "  -i, --interactive          Keep STDIN open even if not attached\n"
          "      --privileged           Give extended privileges to the command\n"
          "  -t, --tty                  Allocate a pseudo-TTY\n"
          "  -u, --user string          Username or UID (format: \"<name|uid>[:<group|gid>]\")\n"
          "  -w, --workdir string       Working directory inside the container\n" },
        { "export", cmd_export, "export [OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive",
          "  -o, --output string   Write to a file, instead of STDOUT\n" },
        { "history", cmd_history, "history [OPTIONS] IMAGE", "Show the history of an image",
          "      --format string   Format output using a template, or \"json\"\n"
          "  -H, --human           Print sizes and dates in human readable format (default true)\n"
          "      --no-trunc        Don't truncate output\n"
          "  -q, --quiet           Only show image IDs\n" },
        { "images", cmd_images, "images [OPTIONS] [REPOSITORY[:TAG]]", "List images",
          "  -a, --all             Show all images (default hides intermediate images)\n"
          "      --digests         Show digests\n"
          "      --format string   Format output using a template, or \"json\"\n"
          "      --no-trunc        Don't truncate output\n"
          "  -q, --quiet           Only show image IDs\n" },
        { "import", cmd_import, "import [OPTIONS] file [REPOSITORY[:TAG]]",
          "Import the contents from a tarball to create a filesystem image" },
        { "info", cmd_info, "info [OPTIONS]", "Display system-wide information",
          "  -f, --format string   Format output using a template, or \"json\"\n" },
        { "inspect", cmd_inspect, "inspect [OPTIONS] NAME|ID [NAME|ID...]",
          "Return low-level information on containers, images, networks or volumes",
          "  -f, --format string   Format output using a template\n"
          "      --type string     Only inspect objects of the given type (container, image, network, volume)\n" },
        { "kill", cmd_kill, "kill [OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
          "  -s, --signal string   Signal to send to the container\n" },
        { "kube", cmd_kube, "kube COMMAND", "Run Kubernetes manifests on this machine (apply, get, describe, ...)",
          "  (run 'berth kube --help' for its commands)\n" },
        { "load", cmd_load, "load [OPTIONS]", "Load an image from a tar archive or STDIN",
          "  -i, --input string   Read from tar archive file, instead of STDIN\n"
          "  -q, --quiet          Suppress the load output\n" },
        { "login", cmd_login, "login [OPTIONS] [SERVER]", "Authenticate to a registry",
          "  -p, --password string   Password or Personal Access Token (PAT)\n"
          "      --password-stdin    Take the Password or Personal Access Token (PAT) from stdin\n"
          "  -u, --username string   Username\n" },
        { "logout", cmd_logout, "logout [SERVER]", "Log out from a registry", "" },
        { "logs", cmd_logs, "logs [OPTIONS] CONTAINER", "Fetch the logs of a container",
          "  -f, --follow          Follow log output\n"
          "      --since string    Show logs since timestamp or relative (e.g. 42m)\n"
          "  -n, --tail string     Number of lines to show from the end (default \"all\")\n"
          "  -t, --timestamps      Show timestamps\n"
          "      --until string    Show logs before a timestamp or relative\n" },
        { "pause", cmd_pause, "pause CONTAINER [CONTAINER...]", "Pause all processes within one or more containers", "" },
        { "port", cmd_port, "port CONTAINER [PRIVATE_PORT[/PROTO]]",
          "List port mappings or a specific mapping for the container", "" },
        { "ps", cmd_ps, "ps [OPTIONS]", "List containers",
          "  -a, --all             Show all containers (default shows just running)\n"
          "  -f, --filter filter   Filter output based on conditions provided\n"
          "      --format string   Format output using a template, or \"json\"\n"
          "  -n, --last int        Show n last created containers\n"
          "  -l, --latest          Show the latest created container\n"
          "      --no-trunc        Don't truncate output\n"
          "  -q, --quiet           Only display container IDs\n"
          "  -s, --size            Display total file sizes\n" },
        { "pull", cmd_pull, "pull [OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry",
          "      --platform string   Set platform if server is multi-platform capable\n"
          "  -q, --quiet             Suppress verbose output\n" },
        { "push", cmd_push, "push [OPTIONS] NAME[:TAG]", "Upload an image to a registry",
          "  -q, --quiet   Suppress verbose output\n" },
        { "rename", cmd_rename, "rename CONTAINER NEW_NAME", "Rename a container", "" },
        { "restart", cmd_restart, "restart [OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
          "  -s, --signal string   Signal to send to the container\n"
          "  -t, --timeout int     Seconds to wait before killing the container\n" },
        { "rm", cmd_rm, "rm [OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
          "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
          "  -l, --link      Remove the specified link\n"
          "  -v, --volumes   Remove anonymous volumes associated with the container\n" },
        { "rmi", cmd_rmi, "rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
          "  -f, --force      Force removal of the image\n"
          "      --no-prune   Do not delete untagged parents\n" },
        { "run", cmd_run, "run [OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
          "      --add-host list          Add a custom host-to-IP mapping (host:ip)\n"
          "      --cap-add list           Add Linux capabilities\n"
          "      --cap-drop list          Drop Linux capabilities\n"
          "      --cpus decimal           Number of CPUs\n"
          "  -d, --detach                 Run container in background and print container ID\n"
          "      --detach-keys string     Override the key sequence for detaching a container\n"
          "      --dns list               Set custom DNS servers\n"
          "      --dns-option list        Set DNS options\n"
          "      --dns-search list        Set custom DNS search domains\n"
          "      --entrypoint string      Overwrite the default ENTRYPOINT of the image\n"
          "  -e, --env list               Set environment variables\n"
          "      --env-file list          Read in a file of environment variables\n"
          "      --expose list            Expose a port or a range of ports\n"
          "  -h, --hostname string        Container host name\n"
          "      --init                   Run an init inside the container\n"
          "  -i, --interactive            Keep STDIN open even if not attached\n"
          "      --ip string              IPv4 address (e.g., 172.30.100.104)\n"
          "      --ip6 string             IPv6 address (e.g., 2001:db8::33)\n"
          "  -l, --label list             Set meta data on a container\n"
          "      --link list              Add link to another container\n"
          "      --link-local-ip list     Container IPv4/IPv6 link-local addresses\n"
          "      --mac-address string     Container MAC address (e.g., 92:d0:c6:0a:29:33)\n"
          "  -m, --memory bytes           Memory limit\n"
          "      --mount mount            Attach a filesystem mount to the container\n"
          "      --name string            Assign a name to the container\n"
          "      --network network        Connect a container to a network\n"
          "      --network-alias list     Add network-scoped alias for the container\n"
          "      --pids-limit int         Tune container pids limit (set -1 for unlimited)\n"
          "      --platform string        Set platform if server is multi-platform capable\n"
          "      --privileged             Give extended privileges to this container\n"
          "  -p, --publish list           Publish a container's port(s) to the host\n"
          "  -P, --publish-all            Publish all exposed ports to random ports\n"
          "      --pull string            Pull image before running (\"always\", \"missing\", \"never\")\n"
          "      --read-only              Mount the container's root filesystem as read only\n"
          "      --restart string         Restart policy to apply when a container exits\n"
          "      --rm                     Automatically remove the container when it exits\n"
          "      --security-opt list      Security Options\n"
          "      --sig-proxy              Proxy received signals to the process (default true)\n"
          "      --stop-signal string     Signal to stop the container\n"
          "      --stop-timeout int       Timeout (in seconds) to stop a container\n"
          "  -t, --tty                    Allocate a pseudo-TTY\n"
          "      --tmpfs list             Mount a tmpfs directory\n"
          "  -u, --user string            Username or UID (format: <name|uid>[:<group|gid>])\n"
          "  -v, --volume list            Bind mount a volume\n"
          "  -w, --workdir string         Working directory inside the container\n" },
        { "save", cmd_save, "save [OPTIONS] IMAGE [IMAGE...]",
          "Save one or more images to a tar archive (streamed to STDOUT by default)",
          "  -o, --output string   Write to a file, instead of STDOUT\n" },
        { "start", cmd_start, "start [OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
          "  -a, --attach                 Attach STDOUT/STDERR and forward signals\n"
          "      --detach-keys string     Override the key sequence for detaching a container\n"
          "  -i, --interactive            Attach container's STDIN\n" },
        { "stats", cmd_stats, "stats --no-stream [OPTIONS] [CONTAINER...]",
          "Display a snapshot of containers' resource usage statistics" },
        { "stop", cmd_stop, "stop [OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
          "  -s, --signal string   Signal to send to the container\n"
          "  -t, --timeout int     Seconds to wait before killing the container\n" },
        { "tag", cmd_tag, "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
          "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", "" },
        { "top", cmd_top, "top CONTAINER [ps OPTIONS]", "Display the running processes of a container", "" },
        { "unpause", cmd_unpause, "unpause CONTAINER [CONTAINER...]",
          "Unpause all processes within one or more containers", "" },
        { "update", cmd_update, "update [OPTIONS] CONTAINER [CONTAINER...]",
          "Update configuration of one or more containers",
          "      --blkio-weight uint16        Block IO (relative weight), between 10 and 1000, or 0 to disable\n"
          "      --cpu-period int             Limit CPU CFS (Completely Fair Scheduler) period\n"
          "      --cpu-quota int              Limit CPU CFS (Completely Fair Scheduler) quota\n"
          "      --cpu-rt-period int          Limit the CPU real-time period in microseconds\n"
          "      --cpu-rt-runtime int         Limit the CPU real-time runtime in microseconds\n"
          "  -c, --cpu-shares int             CPU shares (relative weight)\n"
          "      --cpus decimal               Number of CPUs\n"
          "      --cpuset-cpus string         CPUs in which to allow execution (0-3, 0,1)\n"
          "      --cpuset-mems string         MEMs in which to allow execution (0-3, 0,1)\n"
          "  -m, --memory bytes               Memory limit\n"
          "      --memory-reservation bytes   Memory soft limit\n"
          "      --memory-swap bytes          Swap limit equal to memory plus swap: -1 to enable unlimited swap\n"
          "      --pids-limit int             Tune container pids limit (set -1 for unlimited)\n"
          "      --restart string             Restart policy to apply when a container exits\n" },
        { "version", cmd_version, "version [OPTIONS]", "Show the Berth version information",
          "  -f, --format string   Format output using a template\n" },
        { "wait", cmd_wait, "wait CONTAINER [CONTAINER...]",
          "Block until one or more containers stop, then print their exit codes", "" },
};

/* "berth container ls" and friends: management command + verb. */
static const struct {
        const char *group, *verb, *command;
} aliases[] = {
        { "container", "attach", "attach" },   { "container", "commit", "commit" },
        { "container", "cp", "cp" },           { "container", "create", "create" },
        { "container", "exec", "exec" },       { "container", "export", "export" },
        { "container", "inspect", "container-inspect" },
        { "container", "kill", "kill" },       { "container", "logs", "logs" },
        { "container", "ls", "ps" },           { "container", "list", "ps" },
        { "container", "pause", "pause" },     { "container", "port", "port" },
        { "container", "prune", "container-prune" },
        { "container", "ps", "ps" },           { "container", "rename", "rename" },
        { "container", "restart", "restart" }, { "container", "rm", "rm" },
        { "container", "remove", "rm" },       { "container", "run", "run" },
        { "container", "start", "start" },     { "container", "stats", "stats" },
        { "container", "stop", "stop" },       { "container", "top", "top" },
        { "container", "unpause", "unpause" }, { "container", "update", "update" },
        { "container", "wait", "wait" },
        { "image", "build", "build" },         { "image", "history", "history" },     { "image", "import", "import" },
        { "image", "inspect", "image-inspect" },
        { "image", "load", "load" },           { "image", "ls", "images" },
        { "image", "list", "images" },         { "image", "prune", "image-prune" },
        { "image", "pull", "pull" },           { "image", "push", "push" },
        { "image", "rm", "rmi" },              { "image", "remove", "rmi" },
        { "image", "save", "save" },           { "image", "tag", "tag" },
        { "network", "connect", "network-connect" },
        { "network", "create", "network-create" },
        { "network", "disconnect", "network-disconnect" },
        { "network", "inspect", "network-inspect" },
        { "network", "ls", "network-ls" },     { "network", "list", "network-ls" },
        { "network", "prune", "network-prune" },
        { "network", "rm", "network-rm" },     { "network", "remove", "network-rm" },
        { "system", "df", "system-df" },       { "system", "events", "events" },
        { "system", "info", "info" },          { "system", "prune", "system-prune" },
        { "volume", "create", "volume-create" },
        { "volume", "inspect", "volume-inspect" },
        { "volume", "ls", "volume-ls" },       { "volume", "list", "volume-ls" },
        { "volume", "prune", "volume-prune" }, { "volume", "rm", "volume-rm" },
        { "volume", "remove", "volume-rm" },
};

/* Commands that exist only under a management command ("volume ls"):
 * their internal names hold a "-" and are not accepted on their own. */
static const struct cli_command subcommands[] = {
        { "container-inspect", cmd_container_inspect, "container inspect [OPTIONS] CONTAINER [CONTAINER...]",
          "Display detailed information on one or more containers",
          "  -f, --format string   Format output using a template\n" },
        { "container-prune", cmd_container_prune, "container prune [OPTIONS]", "Remove all stopped containers",
          "      --filter filter   Provide filter values (e.g. \"until=<timestamp>\")\n"
          "  -f, --force           Do not prompt for confirmation\n" },
        { "image-inspect", cmd_image_inspect, "image inspect [OPTIONS] IMAGE [IMAGE...]",
          "Display detailed information on one or more images",
          "  -f, --format string   Format output using a template\n" },
        { "image-prune", cmd_image_prune, "image prune [OPTIONS]", "Remove unused images",
          "  -a, --all             Remove all unused images, not just dangling ones\n"
          "      --filter filter   Provide filter values (e.g. \"until=<timestamp>\")\n"
          "  -f, --force           Do not prompt for confirmation\n" },
        { "network-connect", cmd_network_connect, "network connect [OPTIONS] NETWORK CONTAINER",
          "Connect a container to a network",
          "      --alias strings           Add network-scoped alias for the container\n"
          "      --driver-opt strings      driver options for the network\n"
          "      --gw-priority int         Highest gw-priority provides the default gateway. Accepts positive and\n"
          "                                negative values.\n"
          "      --ip string               IPv4 address (e.g., \"172.30.100.104\")\n"
          "      --ip6 string              IPv6 address (e.g., \"2001:db8::33\")\n"
          "      --link list               Add link to another container\n"
          "      --link-local-ip strings   Add a link-local address for the container\n" },
        { "network-create", cmd_network_create, "network create [OPTIONS] NETWORK", "Create a network",
          "      --attachable           Enable manual container attachment\n"
          "      --aux-address map      Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])\n"
          "      --config-from string   The network from which to copy the configuration\n"
          "      --config-only          Create a configuration only network\n"
          "  -d, --driver string        Driver to manage the Network (default \"bridge\")\n"
          "      --gateway strings      IPv4 or IPv6 Gateway for the master subnet\n"
          "      --ingress              Create swarm routing-mesh network\n"
          "      --internal             Restrict external access to the network\n"
          "      --ip-range strings     Allocate container ip from a sub-range\n"
          "      --ipam-driver string   IP Address Management Driver (default \"default\")\n"
          "      --ipam-opt map         Set IPAM driver specific options (default map[])\n"
          "      --ipv4                 Enable or disable IPv4 address assignment (default true)\n"
          "      --ipv6                 Enable or disable IPv6 address assignment\n"
          "      --label list           Set metadata on a network\n"
          "  -o, --opt map              Set driver specific options (default map[])\n"
          "      --scope string         Control the network's scope\n"
          "      --subnet strings       Subnet in CIDR format that represents a network segment\n" },
        { "network-disconnect", cmd_network_disconnect, "network disconnect [OPTIONS] NETWORK CONTAINER",
          "Disconnect a container from a network",
          "  -f, --force   Force the container to disconnect from a network\n" },
        { "network-inspect", cmd_network_inspect, "network inspect [OPTIONS] NETWORK [NETWORK...]",
          "Display detailed information on one or more networks",
          "  -f, --format string   Format output using a custom template, or \"json\"\n"
          "  -v, --verbose         Verbose output for diagnostics\n" },
        { "network-ls", cmd_network_ls, "network ls [OPTIONS]", "List networks",
          "  -f, --filter filter   Provide filter values (e.g. \"driver=bridge\")\n"
          "      --format string   Format output using a template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'\n"
          "      --no-trunc        Do not truncate the output\n"
          "  -q, --quiet           Only display network IDs\n" },
        { "network-prune", cmd_network_prune, "network prune [OPTIONS]", "Remove all unused networks",
          "      --filter filter   Provide filter values (e.g. \"until=<timestamp>\")\n"
          "  -f, --force           Do not prompt for confirmation\n" },
        { "network-rm", cmd_network_rm, "network rm NETWORK [NETWORK...]", "Remove one or more networks",
          "  -f, --force   Do not error if the network does not exist\n" },
        { "system-df", cmd_system_df, "system df [OPTIONS]", "Show docker disk usage",
          "      --format string   Format output using a template, or \"json\"\n"
          "  -v, --verbose         Show detailed information on space usage\n" },
        { "system-prune", cmd_system_prune, "system prune [OPTIONS]", "Remove unused data",
          "  -a, --all             Remove all unused images not just dangling ones\n"
          "      --filter filter   Provide filter values (e.g. \"label=<key>=<value>\")\n"
          "  -f, --force           Do not prompt for confirmation\n"
          "      --volumes         Prune anonymous volumes\n" },
        { "volume-create", cmd_volume_create, "volume create [OPTIONS] [VOLUME]", "Create a volume",
          "  -d, --driver string   Specify volume driver name (default \"local\")\n"
          "      --label list      Set metadata for a volume\n"
          "  -o, --opt map         Set driver specific options (default map[])\n" },
        { "volume-inspect", cmd_volume_inspect, "volume inspect [OPTIONS] VOLUME [VOLUME...]",
          "Display detailed information on one or more volumes",
          "  -f, --format string   Format output using a template\n" },
        { "volume-ls", cmd_volume_ls, "volume ls [OPTIONS]", "List volumes",
          "  -f, --filter filter   Provide filter values (e.g. \"dangling=true\")\n"
          "      --format string   Format output using a template, or \"json\"\n"
          "  -q, --quiet           Only display volume names\n" },
        { "volume-prune", cmd_volume_prune, "volume prune [OPTIONS]", "Remove unused local volumes",
          "  -a, --all             Remove all unused volumes, not just anonymous ones\n"
          "      --filter filter   Provide filter values (e.g. \"label=<label>\")\n"
          "  -f, --force           Do not prompt for confirmation\n" },
        { "volume-rm", cmd_volume_rm, "volume rm [OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes",
          "  -f, --force   Force the removal of one or more volumes\n" },
};

static const struct cli_command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
                if (strcmp(subcommands[i].name, name) == 0)
                        return &subcommands[i];
        return NULL;
}

static void print_help(const struct cli_command *cmd)
{
        printf("\nUsage:  berth %s\n\n%s\n", cmd->usage, cmd->summary);
        if (cmd->options && *cmd->options)
                printf("\nOptions:\n%s", cmd->options);
}

static void print_main_help(void)
{
        printf("\nUsage:  berth [OPTIONS] COMMAND\n\n"
               "A container engine that speaks the Docker Engine API\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("  %-10s%s\n", commands[i].name, commands[i].summary);
        printf("\nManagement Commands:\n"
               "  container   Manage containers\n"
               "  image       Manage images\n"
               "  network     Manage networks\n"
               "  system      Manage Berth\n"
               "  volume      Manage volumes\n"
               "\nGlobal Options:\n"
               "  -H, --host string   Daemon socket to connect to (unix:///path)\n"
               "  -v, --version       Print version information and quit\n"
               "\nThe daemon is found from -H, then BERTH_HOST, then DOCKER_HOST, then "
               CLI_DEFAULT_HOST ".\n");
}

static const char *usage_of(const char *cmd)
{
        const struct cli_command *c = find_command(cmd);
        return c ? c->usage : cmd;
}

/* The name users type ("volume create" for volume-create): the leading
 * lowercase words of the usage line. */
static const char *display_name(const char *cmd)
{
        static char name[64];
        const char *u = usage_of(cmd), *p = u, *end = u;

        for (;;) {
                const char *w = p;
                while (*p >= 'a' && *p <= 'z')
                        p++;
                if (p == w || (*p != ' ' && *p != '\0'))
                        break;
                end = p;
                if (*p == '\0')
                        break;
                p++;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(end - u), u);
        return name;
}

static bool is_group(const char *name);

static const struct {
        const char *name, *summary;
} groups[] = {
        { "container", "Manage containers" },
        { "image", "Manage images" },
        { "network", "Manage networks" },
        { "system", "Manage Berth" },
        { "volume", "Manage volumes" },
};

static bool is_group(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
                if (strcmp(groups[i].name, name) == 0)
                        return true;
        return false;
}

/* "berth volume": the group's commands, as docker lists them. */
static bool print_group_help(const char *group)
{
        const char *summary = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
                if (strcmp(groups[i].name, group) == 0)
                        summary = groups[i].summary;
        if (summary == NULL)
                return false;
        printf("\nUsage:  berth %s COMMAND\n\n%s\n\nCommands:\n", group, summary);
        for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
                const struct cli_command *c;
                if (strcmp(aliases[i].group, group) != 0 || (i > 0 && strcmp(aliases[i - 1].command, aliases[i].command) == 0 &&
                                                             strcmp(aliases[i - 1].group, group) == 0))
                        continue;
                c = find_command(aliases[i].command);
                if (c)  /* cobra pads names to 11, then a space */
                        printf("  %-11s %s\n", aliases[i].verb, c->summary);
        }
        printf("\nRun 'berth %s COMMAND --help' for more information on a command.\n", group);
        return true;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const char *cmd)
{
        int o = getopt_long(argc, argv, shortopts, longopts, NULL);

        if (o == CLI_GETOPT_HELP) {
                const struct cli_command *c = find_command(cmd);
                if (c)
                        print_help(c);
                return CLI_GETOPT_HELP;
        }
        if (o == '?' || o == ':') {
                const char *bad = argv[optind - 1];
                if (o == ':')
                        fprintf(stderr, "flag needs an argument: %s\n", bad);
                else if (optopt && bad[0] == '-' && bad[1] != '-')
                        fprintf(stderr, "unknown shorthand flag: '%c' in %s\n", optopt, bad);
                else
                        fprintf(stderr, "unknown flag: %s\n", bad);
                fprintf(stderr, "\nUsage:  berth %s\n\nRun 'berth %s --help' for more information\n",
                        usage_of(cmd), display_name(cmd));
                return CLI_GETOPT_ERROR;
        }
        return o;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "berth: 'berth %s' ", display_name(cmd));
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        /* docker's wording: "See" after a minimum count, "Run" after an
         * exact count or a range ("at least 1 and at most 2") */
        fprintf(stderr, "\n\nUsage:  berth %s\n\n%s 'berth %s --help' for more information\n", usage_of(cmd),
                str_has_prefix(fmt, "requires at ") && !strstr(fmt, " and at most ") ? "See" : "Run",
                display_name(cmd));
        return 1;
}

int cli_run_error(const char *cmd, berth_error_t *err, int status)
{
        fprintf(stderr, "berth: %s\n\nRun 'berth %s --help' for more information\n",
                err ? err->msg : "unknown error", display_name(cmd));
        return status;
}

int cli_flag_error(const char *cmd, const char *flag, const char *value, const char *why)
{
        fprintf(stderr, "invalid argument \"%s\" for \"%s\" flag: %s\n\nUsage:  berth %s\n\nRun 'berth %s --help' for more information\n",
                value, flag, why, usage_of(cmd), display_name(cmd));
        return 125;
}

void cli_print_error(berth_error_t *err)
{
        if (err == NULL)
                return;
        /* the daemon's errors and connection failures are printed as they
         * are; the CLI's own ones get docker's "Error: " */
        if (str_has_prefix(err->msg, "Error") || str_has_prefix(err->msg, "Cannot connect") ||
            str_has_prefix(err->msg, "permission denied while"))
                fprintf(stderr, "%s\n", err->msg);
        else
                fprintf(stderr, "Error: %s\n", err->msg);
}

bool cli_bool_arg(const char *v, bool *ok)
{
        *ok = true;
        if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "t") == 0 ||
            strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0)
                return true;
        if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "f") == 0 ||
            strcmp(v, "FALSE") == 0 || strcmp(v, "False") == 0)
                return false;
        *ok = false;
        return false;
}

int cli_main(int argc, char **argv)
{
        static const struct option global[] = {
                { "host", required_argument, NULL, 'H' },
                { "debug", no_argument, NULL, 'D' },
                { "log-level", required_argument, NULL, 'l' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                CLI_OPT_END,
        };
        const char *host = NULL;
        const struct cli_command *cmd;
        _cleanup_error_ berth_error_t *err = NULL;
        struct cli c;
        int o, ret;

        opterr = 0;
        while ((o = getopt_long(argc, argv, "+:H:Dl:vh", global, NULL)) != -1) {
                switch (o) {
                case 'H':
                        host = optarg;
                        break;
                case 'D':
                case 'l':
                        break;
                case 'v':
                        printf("Berth version %s\n", BERTH_VERSION);
                        return 0;
                case 'h':
                        print_main_help();
                        return 0;
                case ':':
                        fprintf(stderr, "flag needs an argument: %s\n", argv[optind - 1]);
                        return 125;
                default:
                        fprintf(stderr, "unknown flag: %s\nSee 'berth --help'.\n", argv[optind - 1]);
                        return 125;
                }
        }
        argc -= optind;
        argv += optind;
        if (argc == 0) {
                print_main_help();
                return 0;
        }
        if (strcmp(argv[0], "help") == 0) {
                cmd = argc > 1 ? find_command(argv[1]) : NULL;
                if (cmd)
                        print_help(cmd);
                else
                        print_main_help();
                return 0;
        }
        cmd = find_command(argv[0]);
        if (cmd && strstr(cmd->name, "-")) /* internal names are not commands */
                cmd = NULL;
        if (cmd == NULL && argc >= 2) {
                for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
                        if (strcmp(aliases[i].group, argv[0]) == 0 && strcmp(aliases[i].verb, argv[1]) == 0) {
                                cmd = find_command(aliases[i].command);
                                argc--;
                                argv++;
                                break;
                        }
                }
        }
        if (cmd == NULL && (argc == 1 || strcmp(argv[1], "--help") == 0) && print_group_help(argv[0]))
                return 0;
        if (cmd == NULL) {
                fprintf(stderr, "berth: unknown command: berth %s%s%s\n\nRun 'berth --help' for more information\n",
                        argv[0], argc > 1 && is_group(argv[0]) ? " " : "",
                        argc > 1 && is_group(argv[0]) ? argv[1] : "");
                return 1;
        }
        if (cli_init(&c, host, &err) < 0) {
                fprintf(stderr, "berth: %s\n", err->msg);
                cli_fini(&c);
                return 1;
        }
        optind = 0;     /* each command parses its own argv from the start */
        ret = cmd->fn(&c, argc, argv);
        fflush(stdout);
        cli_fini(&c);
        return ret;
}
