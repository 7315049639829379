/* Unit tests for src/engine/docker-spec: Docker create bodies (the exact
 * ones the docker CLI sends, from /work/shared/docker-api-traces) and
 * targeted cases to config.json, checked against Docker's documented
 * behaviour: ENTRYPOINT/CMD merging, environment, users from the rootfs's
 * /etc/passwd and /etc/group, capabilities, resources, mounts, namespaces,
 * seccomp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/docker-spec.h"
#include "engine/docker-user.h"
#include "oci/config.h"
#include "runtime/seccomp.h"
#include "util/util.h"

static void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

static const char ID[] = "d6f7782dfc5ded6702d039f1c4121eb2df66979a3b2d3d77fa31536ec8c4b951";
static char rootfs[] = "/tmp/berth-test-spec-XXXXXX";
static char hostdev[] = "/tmp/berth-test-dev-XXXXXX";
static char *seccomp_path;

/* The bodies the docker CLI 28.2 sent (docker-api-traces), compacted. */
static const char trace_create_start[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"echo\",\"c"
        "reated-then-started\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\""
        "OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\""
        "Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":"
        "\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"Con"
        "soleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],"
        "\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\""
        "OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":"
        "false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuSha"
        "res\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],"
        "\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWr"
        "iteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"Cpu"
        "setCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,"
        "\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsL"
        "imit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":"
        "0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"defau"
        "lt\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"Gw"
        "Priority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\""
        "IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

static const char trace_run_volumes_0[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"sh\",\"-c\""
        ",\"echo persisted > /data/f; cat /data/f\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\""
        ",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":[\"datavol:/data\"],\"C"
        "ontainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBind"
        "ings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDr"
        "iver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMo"
        "de\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMod"
        "e\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishA"
        "llPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"S"
        "hmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioW"
        "eight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioD"
        "eviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePerio"
        "d\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRu"
        "les\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":"
        "-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaxi"
        "mumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingCo"
        "nfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacA"
        "ddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\","
        "\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6Prefix"
        "Len\":0,\"DNSNames\":null}}}}";

static const char trace_run_volumes_1[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"cat\",\"/d"
        "ata/f\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
        "\"Labels\":{},\"HostConfig\":{\"Binds\":[\"datavol:/data:ro\"],\"ContainerIDFile\":\"\",\"LogConfig\":"
        "{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name"
        "\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"Co"
        "nsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[]"
        ",\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,"
        "\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\""
        ":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuSh"
        "ares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[]"
        ",\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceW"
        "riteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"Cp"
        "usetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null"
        ",\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"Pids"
        "Limit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\""
        ":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"defa"
        "ult\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"G"
        "wPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,"
        "\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

static const char trace_run_volumes_2[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"ls\",\"-la"
        "\",\"/auto\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":nu"
        "ll,\"Labels\":{},\"HostConfig\":{\"Binds\":[\"autovol:/auto\"],\"ContainerIDFile\":\"\",\"LogConfig\":"
        "{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name"
        "\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"Co"
        "nsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[]"
        ",\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,"
        "\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\""
        ":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuSh"
        "ares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[]"
        ",\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceW"
        "riteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"Cp"
        "usetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null"
        ",\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"Pids"
        "Limit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\""
        ":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"defa"
        "ult\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"G"
        "wPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,"
        "\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

static const char trace_run_volumes_3[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"cat\",\"/m"
        "nt/b/hello.txt\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBui"
        "ld\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":[\"/tmp/trace/bindsrc:/mnt/b:ro\"],\"ContainerID"
        "File\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\""
        "RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\""
        "VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dn"
        "s\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgr"
        "oup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":f"
        "alse,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,"
        "\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\""
        "BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadI"
        "Ops\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuR"
        "ealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,"
        "\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKil"
        "lDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0"
        ",\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"En"
        "dpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\""
        ",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress"
        "\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DN"
        "SNames\":null}}}}";

static const char trace_run_volumes_4[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"ls\",\"/m\""
        "],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Label"
        "s\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}"
        "},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCo"
        "unt\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapA"
        "dd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"Extra"
        "Hosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMo"
        "de\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":n"
        "ull,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"Na"
        "noCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":"
        "[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPerio"
        "d\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMe"
        "ms\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0"
        ",\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],"
        "\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"Mounts\":[{\"Type\":\""
        "bind\",\"Source\":\"/tmp/trace/bindsrc\",\"Target\":\"/m\"}],\"MaskedPaths\":null,\"ReadonlyPaths\":n"
        "ull},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"A"
        "liases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID"
        "\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\""
        ",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

static const char trace_run_volumes_5[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"Attach"
        "Stderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"cat\",\"/d"
        "/f\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"La"
        "bels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\""
        ":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetr"
        "yCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"C"
        "apAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"Ex"
        "traHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"Pi"
        "dMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt"
        "\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,"
        "\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBp"
        "s\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPe"
        "riod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"Cpuse"
        "tMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation"
        "\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":"
        "[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"Mounts\":[{\"Type"
        "\":\"volume\",\"Source\":\"datavol\",\"Target\":\"/d\"}],\"MaskedPaths\":null,\"ReadonlyPaths\":null},\""
        "NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases"
        "\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\""
        "Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"Glob"
        "alIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

static const char trace_run_it[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":true,\"AttachStdout\":true,\"AttachS"
        "tderr\":true,\"Tty\":true,\"OpenStdin\":true,\"StdinOnce\":true,\"Env\":null,\"Cmd\":[\"sh\"],\"Image\""
        ":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"Ho"
        "stConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"Networ"
        "kMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\""
        "AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[30,100],\"CapAdd\":nu"
        "ll,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\""
        ":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\""
        ",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"U"
        "TSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus"
        "\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"Bl"
        "kioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\""
        "CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\""
        ",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"Memo"
        "rySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCo"
        "unt\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"Reado"
        "nlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Lin"
        "ks\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\","
        "\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6"
        "Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

static const char trace_run_d_0[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":false,\"Attac"
        "hStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"sleep\""
        ",\"100000\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":nu"
        "ll,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"C"
        "onfig\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"Maxim"
        "umRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":["
        "0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\""
        ":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj"
        "\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"Secu"
        "rityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Mem"
        "ory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDevic"
        "eReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[]"
        ",\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\""
        ",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryRese"
        "rvation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ul"
        "imits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPa"
        "ths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMC"
        "onfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0"
        ",\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway"
        "\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}";

/* ---- helpers ---- */

static json_t *at(json_t *root, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && root; k = strtok_r(NULL, ".", &save)) {
                char *end;
                long idx = strtol(k, &end, 10);
                root = (*end == '\0' && json_is_array(root)) ? json_array_get(root, (size_t)idx) : json_object_get(root, k);
        }
        return root;
}

static const char *str_at(json_t *root, const char *path)
{
        return json_string_value(at(root, path));
}

static bool array_has(json_t *array, const char *s)
{
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        return false;
}

/* The array as "a b c", for comparing argv and lists in one assert. */
static char *joined(json_t *array)
{
        char *out = xstrdup("");
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v) {
                char *next = xasprintf("%s%s%s", out, i ? " " : "", json_is_string(v) ? json_string_value(v) : "?");
                free(out);
                out = next;
        }
        return out;
}

static void assert_joined(json_t *array, const char *want)
{
        _cleanup_free_ char *got = joined(array);

        assert_string_equal(got, want);
}

static json_t *find_mount(json_t *spec, const char *dest)
{
        size_t i;
        json_t *m;

        json_array_foreach(json_object_get(spec, "mounts"), i, m)
                if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
                        return m;
        return NULL;
}

static json_t *find_ns(json_t *spec, const char *type)
{
        size_t i;
        json_t *ns;

        json_array_foreach(at(spec, "linux.namespaces"), i, ns)
                if (strcmp(json_string_value(json_object_get(ns, "type")), type) == 0)
                        return ns;
        return NULL;
}

static bool env_has(json_t *spec, const char *entry)
{
        return array_has(at(spec, "process.env"), entry);
}

static char **strv(const char *first, ...)
{
        va_list ap;
        size_t n = 0;
        char **v = xcalloc(16, sizeof(char *));

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                v[n++] = xstrdup(s);
        va_end(ap);
        return v;
}

/* busybox's image config, as pulled. */
static struct image_config *busybox(void)
{
        struct image_config *c = xcalloc(1, sizeof(*c));

        c->cmd = strv("sh", NULL);
        c->env = strv("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL);
        return c;
}

static struct docker_spec_input base_input(void)
{
        return (struct docker_spec_input){
                .id = ID,
                .rootfs = rootfs,
                .seccomp_default = seccomp_path,
                .host_dev = hostdev,
        };
}

struct result {
        json_t *spec;
        struct docker_spec_info info;
        char *error;
        struct docker_volume_source vols[16];
        char *owned[48];
};

static void result_clear(struct result *r)
{
        json_decref(r->spec);
        docker_spec_info_clear(&r->info);
        free(r->error);
        for (size_t i = 0; i < ARRAY_SIZE(r->owned); i++)
                free(r->owned[i]);
        memset(r, 0, sizeof(*r));
}
#define _cleanup_result_ __attribute__((cleanup(result_clear)))

/* Step 1 and 2 as the engine runs them: volumes get
 * /var/lib/berth/volumes/<name>/_data, anonymous ones the name anon<n>. */
static void run_input(struct docker_spec_input *in, const char *body, struct result *r)
{
        _cleanup_json_ json_t *create = json_loads(body, JSON_ALLOW_NUL, NULL);
        berth_error_t *err = NULL;
        struct docker_mount *m = NULL;
        size_t n = 0, nv = 0;

        assert_non_null(create);
        in->create = create;
        if (docker_spec_mounts(create, in->image, &m, &n, &err) == 0) {
                for (size_t i = 0; i < n && nv < ARRAY_SIZE(r->vols); i++) {
                        char *name, *path, *dest;
                        if (m[i].type != DOCKER_MOUNT_VOLUME)
                                continue;
                        name = m[i].source ? xstrdup(m[i].source) : xasprintf("anon%zu", nv);
                        path = xasprintf("/var/lib/berth/volumes/%s/_data", name);
                        dest = xstrdup(m[i].destination);
                        r->owned[3 * nv] = name;
                        r->owned[3 * nv + 1] = path;
                        r->owned[3 * nv + 2] = dest;
                        r->vols[nv++] = (struct docker_volume_source){ dest, name, path };
                }
                docker_mounts_free(m, n);
                in->volumes = r->vols;
                in->n_volumes = nv;
                if (docker_spec_build(in, &r->spec, &r->info, &err) == 0) {
                        /* whatever we emit, the runtime must accept */
                        berth_error_t *verr = NULL;
                        if (oci_config_validate(r->spec, &verr) < 0)
                                fail_msg("runtime rejects the config: %s", verr->msg);
                        return;
                }
        }
        r->error = xstrdup(err->msg);
        berth_error_free(&err);
}

static void run(const char *body, struct result *r)
{
        struct docker_spec_input in = base_input();

        run_input(&in, body, r);
}

static void run_image(const char *body, struct image_config *img, struct result *r)
{
        struct docker_spec_input in = base_input();

        in.image = img;
        run_input(&in, body, r);
}

#define assert_ok(r) do { if ((r)->error) fail_msg("unexpected error: %s", (r)->error); } while (0)
#define assert_error(r, want) do { \
        if ((r)->error == NULL) fail_msg("expected an error containing \"%s\"", want); \
        if (strstr((r)->error, want) == NULL) fail_msg("error \"%s\" lacks \"%s\"", (r)->error, want); \
} while (0)

/* A body with the trace's NetworkMode replaced: Berth has no bridge yet. */
static char *with_network(const char *body, const char *mode)
{
        _cleanup_json_ json_t *j = json_loads(body, 0, NULL);

        json_object_set_new(json_object_get(j, "HostConfig"), "NetworkMode", json_string(mode));
        return json_dumps(j, JSON_COMPACT);
}

/* {"Cmd":["true"],"HostConfig":{"NetworkMode":"none", <hc>}} plus <top>. */
static char *body_with(const char *top, const char *hc)
{
        return xasprintf("{\"Cmd\":[\"true\"]%s%s,\"HostConfig\":{\"NetworkMode\":\"none\"%s%s}}", top[0] ? "," : "", top,
                         hc[0] ? "," : "", hc);
}

static void run_hc(const char *hc, struct result *r)
{
        _cleanup_free_ char *body = body_with("", hc);

        run(body, r);
}

static void run_top(const char *top, struct result *r)
{
        _cleanup_free_ char *body = body_with(top, "");

        run(body, r);
}

static void write_text(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static json_t *syscall_rule_with(json_t *spec, const char *name);
static void assert_compiles(json_t *spec);

/* ---- the docker CLI's bodies ---- */

/* The default network is a bridge: the container joins the namespace
 * the engine makes for it, and without one the spec is refused. */
static void trace_default_network_joins_engine_namespace(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, missing = { 0 };
        struct docker_spec_input in = base_input();

        run(trace_create_start, &missing);
        assert_error(&missing, "the engine gave no network namespace");
        in.netns_path = "/run/berth/netns/abc";
        run_input(&in, trace_create_start, &r);
        assert_ok(&r);
        assert_string_equal(str_at(find_ns(r.spec, "network"), "path"), "/run/berth/netns/abc");
        assert_int_equal(r.info.network, DOCKER_NETWORK_BRIDGE);
}

static void trace_create_start_spec(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        _cleanup_free_ char *body = with_network(trace_create_start, "none");
        struct image_config *img = busybox();
        json_t *s;

        run_image(body, img, &r);
        image_config_free(img);
        assert_ok(&r);
        s = r.spec;
        assert_joined(at(s, "process.args"), "echo created-then-started");
        assert_joined(at(s, "process.env"), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
                                            "HOSTNAME=d6f7782dfc5d HOME=/root");
        assert_string_equal(str_at(s, "process.cwd"), "/");
        assert_false(json_is_true(at(s, "process.terminal")));
        assert_int_equal(json_integer_value(at(s, "process.user.uid")), 0);
        assert_joined(at(s, "process.user.additionalGids"), "? ? ?"); /* 0, then root's groups 10 and 11 */
        assert_int_equal(json_integer_value(at(s, "process.user.additionalGids.1")), 10);
        assert_joined(at(s, "process.capabilities.bounding"),
                      "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP "
                      "CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP");
        assert_true(json_equal(at(s, "process.capabilities.bounding"), at(s, "process.capabilities.effective")));
        assert_true(json_equal(at(s, "process.capabilities.bounding"), at(s, "process.capabilities.permitted")));
        assert_null(at(s, "process.capabilities.inheritable"));
        assert_null(at(s, "process.capabilities.ambient"));
        assert_false(json_is_true(at(s, "process.noNewPrivileges")));
        assert_string_equal(str_at(s, "hostname"), "d6f7782dfc5d");
        assert_string_equal(str_at(s, "root.path"), rootfs);
        assert_false(json_is_true(at(s, "root.readonly")));
        assert_string_equal(str_at(s, "linux.cgroupsPath"), "d6f7782dfc5ded6702d039f1c4121eb2df66979a3b2d3d77fa31536ec8c4b951");
        assert_non_null(find_ns(s, "network"));
        assert_null(json_object_get(find_ns(s, "network"), "path"));
        for (const char *const *t = (const char *const[]){ "pid", "ipc", "uts", "mount", "cgroup", NULL }; *t; t++)
                assert_non_null(find_ns(s, *t));
        assert_joined(at(s, "linux.maskedPaths"), "/proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats "
                      "/proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware "
                      "/sys/devices/virtual/powercap");
        assert_joined(at(s, "linux.readonlyPaths"), "/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger");
        assert_non_null(at(s, "linux.seccomp.defaultAction"));
        assert_null(at(s, "linux.seccomp.berthCapabilityRules"));
        assert_false(json_is_true(at(s, "linux.resources.devices.0.allow")));
        assert_string_equal(str_at(s, "linux.resources.devices.0.access"), "rwm");
        assert_int_equal(r.info.stop_signal, SIGTERM);
        assert_int_equal(r.info.restart, DOCKER_RESTART_NO);
        assert_int_equal(r.info.network, DOCKER_NETWORK_NONE);
        assert_false(r.info.stop_timeout_set);
        assert_false(r.info.auto_remove);
        assert_int_equal(r.info.n_mounts, 0);
        assert_int_equal(r.info.n_warnings, 0);
}

static void trace_default_mounts(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        _cleanup_free_ char *body = with_network(trace_run_d_0, "none");
        json_t *m;

        run(body, &r);
        assert_ok(&r);
        assert_joined(at(r.spec, "process.args"), "sleep 100000");
        m = json_object_get(r.spec, "mounts");
        assert_int_equal(json_array_size(m), 7);
        assert_string_equal(str_at(m, "0.destination"), "/proc");
        assert_string_equal(str_at(m, "1.destination"), "/dev");
        assert_joined(at(find_mount(r.spec, "/dev/pts"), "options"),
                      "nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5");
        assert_joined(at(find_mount(r.spec, "/sys"), "options"), "nosuid noexec nodev ro");
        assert_joined(at(find_mount(r.spec, "/sys/fs/cgroup"), "options"), "nosuid noexec nodev ro");
        assert_string_equal(str_at(find_mount(r.spec, "/dev/mqueue"), "type"), "mqueue");
        assert_string_equal(str_at(find_mount(r.spec, "/dev/shm"), "type"), "tmpfs");
        assert_joined(at(find_mount(r.spec, "/dev/shm"), "options"), "nosuid noexec nodev mode=1777 size=67108864");
}

static void trace_run_volumes_named(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, ro = { 0 }, anon = { 0 };
        _cleanup_free_ char *b0 = with_network(trace_run_volumes_0, "none");
        _cleanup_free_ char *b1 = with_network(trace_run_volumes_1, "none");
        _cleanup_free_ char *b2 = with_network(trace_run_volumes_2, "none");
        json_t *m;

        run(b0, &r);
        assert_ok(&r);
        assert_joined(at(r.spec, "process.args"), "sh -c echo persisted > /data/f; cat /data/f");
        m = find_mount(r.spec, "/data");
        assert_non_null(m);
        assert_string_equal(str_at(m, "type"), "bind");
        assert_string_equal(str_at(m, "source"), "/var/lib/berth/volumes/datavol/_data");
        assert_joined(at(m, "options"), "rbind");
        assert_int_equal(r.info.n_mounts, 1);
        assert_int_equal(r.info.mounts[0].type, DOCKER_MOUNT_VOLUME);
        assert_string_equal(r.info.mounts[0].source, "datavol");
        assert_false(r.info.mounts[0].readonly);
        assert_true(r.info.auto_remove);

        run(b1, &ro);
        assert_ok(&ro);
        assert_joined(at(find_mount(ro.spec, "/data"), "options"), "rbind ro");
        assert_true(ro.info.mounts[0].readonly);
        assert_string_equal(ro.info.mounts[0].mode, "ro");

        run(b2, &anon);
        assert_ok(&anon);
        assert_string_equal(str_at(find_mount(anon.spec, "/auto"), "source"), "/var/lib/berth/volumes/autovol/_data");
}

static void trace_run_volumes_binds(void **state)
{
        (void)state;
        _cleanup_result_ struct result bind = { 0 }, mnt = { 0 }, vol = { 0 };
        _cleanup_free_ char *b3 = with_network(trace_run_volumes_3, "none");
        _cleanup_free_ char *b4 = with_network(trace_run_volumes_4, "none");
        _cleanup_free_ char *b5 = with_network(trace_run_volumes_5, "none");
        json_t *m;

        run(b3, &bind);
        assert_ok(&bind);
        m = find_mount(bind.spec, "/mnt/b");
        assert_string_equal(str_at(m, "source"), "/tmp/trace/bindsrc");
        assert_joined(at(m, "options"), "rbind ro rprivate");
        assert_int_equal(bind.info.mounts[0].type, DOCKER_MOUNT_BIND);
        assert_false(bind.info.mounts[0].must_exist);      /* -v makes a missing source */

        run(b4, &mnt);
        assert_ok(&mnt);
        m = find_mount(mnt.spec, "/m");
        assert_string_equal(str_at(m, "source"), "/tmp/trace/bindsrc");
        assert_joined(at(m, "options"), "rbind rprivate");
        assert_true(mnt.info.mounts[0].must_exist);        /* --mount does not */

        run(b5, &vol);
        assert_ok(&vol);
        assert_string_equal(str_at(find_mount(vol.spec, "/d"), "source"), "/var/lib/berth/volumes/datavol/_data");
        assert_string_equal(vol.info.mounts[0].source, "datavol");
}

static void trace_run_it_tty(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        _cleanup_free_ char *body = with_network(trace_run_it, "host");
        struct image_config *img = busybox();
        char host[256] = "";

        run_image(body, img, &r);
        image_config_free(img);
        assert_ok(&r);
        gethostname(host, sizeof(host) - 1);
        assert_true(json_is_true(at(r.spec, "process.terminal")));
        assert_int_equal(json_integer_value(at(r.spec, "process.consoleSize.height")), 30);
        assert_int_equal(json_integer_value(at(r.spec, "process.consoleSize.width")), 100);
        assert_true(env_has(r.spec, "TERM=xterm"));
        assert_joined(at(r.spec, "process.args"), "sh");
        assert_true(r.info.tty && r.info.open_stdin && r.info.stdin_once && r.info.auto_remove);
        /* host network: no network namespace, the host's hostname */
        assert_null(find_ns(r.spec, "network"));
        assert_int_equal(r.info.network, DOCKER_NETWORK_HOST);
        assert_string_equal(r.info.hostname, host);
        assert_string_equal(str_at(r.spec, "hostname"), host);
}

/* ---- ENTRYPOINT and CMD ---- */

static void entrypoint_cmd_table(void **state)
{
        (void)state;
        static const struct {
                const char *img_ep, *img_cmd;   /* JSON arrays, or NULL */
                const char *top;                /* body fields */
                const char *want;               /* args joined, or "!" + error */
        } cases[] = {
                { NULL, "[\"sh\"]", "", "sh" },
                { "[\"/ep\"]", "[\"a\"]", "", "/ep a" },
                { "[\"/ep\"]", "[\"a\"]", "\"Cmd\":[\"b\",\"c\"]", "/ep b c" },
                { "[\"/ep\"]", "[\"a\"]", "\"Entrypoint\":[\"/x\"]", "/x" },
                { "[\"/ep\"]", "[\"a\"]", "\"Entrypoint\":[\"/x\"],\"Cmd\":[\"b\"]", "/x b" },
                { "[\"/ep\"]", "[\"a\"]", "\"Entrypoint\":[\"\"]", "!no command specified" },
                { "[\"/ep\"]", "[\"a\"]", "\"Entrypoint\":[\"\"],\"Cmd\":[\"b\"]", "b" },
                { "[\"/ep\"]", "[\"a\"]", "\"Entrypoint\":[]", "a" },
                { "[\"/ep\"]", "[\"a\"]", "\"Entrypoint\":null,\"Cmd\":null", "/ep a" },
                { "[\"/ep\"]", NULL, "", "/ep" },
                { NULL, NULL, "", "!no command specified" },
                { NULL, "[]", "\"Cmd\":[]", "!no command specified" },
                { NULL, NULL, "\"Cmd\":\"echo\"", "echo" },             /* a string is a one-word list */
                { NULL, "[\"sh\"]", "\"Entrypoint\":\"/bin/x\"", "/bin/x" },
                { "[\"\"]", "[\"a\"]", "", "a" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_result_ struct result r = { 0 };
                _cleanup_free_ char *body = xasprintf("{%s%s\"HostConfig\":{\"NetworkMode\":\"none\"}}", cases[i].top,
                                                      cases[i].top[0] ? "," : "");
                struct image_config *img = xcalloc(1, sizeof(*img));
                json_t *v;

                if (cases[i].img_ep) {
                        v = json_loads(cases[i].img_ep, 0, NULL);
                        img->entrypoint = xcalloc(json_array_size(v) + 1, sizeof(char *));
                        for (size_t k = 0; k < json_array_size(v); k++)
                                img->entrypoint[k] = xstrdup(json_string_value(json_array_get(v, k)));
                        json_decref(v);
                }
                if (cases[i].img_cmd) {
                        v = json_loads(cases[i].img_cmd, 0, NULL);
                        img->cmd = xcalloc(json_array_size(v) + 1, sizeof(char *));
                        for (size_t k = 0; k < json_array_size(v); k++)
                                img->cmd[k] = xstrdup(json_string_value(json_array_get(v, k)));
                        json_decref(v);
                }
                run_image(body, img, &r);
                image_config_free(img);
                if (cases[i].want[0] == '!') {
                        if (r.error == NULL || strcmp(r.error, cases[i].want + 1) != 0)
                                fail_msg("case %zu: want error \"%s\", got %s", i, cases[i].want + 1,
                                         r.error ? r.error : "success");
                        continue;
                }
                if (r.error)
                        fail_msg("case %zu: %s", i, r.error);
                _cleanup_free_ char *got = joined(at(r.spec, "process.args"));
                if (strcmp(got, cases[i].want) != 0)
                        fail_msg("case %zu: want \"%s\", got \"%s\"", i, cases[i].want, got);
        }
}

static void init_wraps_the_command(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, bare = { 0 };
        _cleanup_free_ char *body = body_with("\"Cmd\":[\"sleep\",\"1\"]", "\"Init\":true");
        struct docker_spec_input in = base_input();
        json_t *m;

        in.init_path = "/usr/libexec/berth/berth-init";
        run_input(&in, body, &r);
        assert_ok(&r);
        assert_true(r.info.init);
        assert_joined(at(r.spec, "process.args"), "/sbin/docker-init -- sleep 1");
        m = find_mount(r.spec, "/sbin/docker-init");
        assert_string_equal(str_at(m, "source"), "/usr/libexec/berth/berth-init");
        assert_joined(at(m, "options"), "bind ro");
        /* without an init binary the engine arranges it: only the flag */
        run(body, &bare);
        assert_ok(&bare);
        assert_true(bare.info.init);
        assert_joined(at(bare.spec, "process.args"), "sleep 1");
}

/* ---- environment and working directory ---- */

static void env_merge(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        _cleanup_free_ char *body = body_with("\"Hostname\":\"web\",\"Env\":[\"B=body\",\"PATH=/opt/bin\",\"NEW=1\","
                                              "\"HOSTNAME=mine\",\"HOME=/srv\",\"GONE\"]", "");
        struct image_config *img = xcalloc(1, sizeof(*img));

        img->cmd = strv("sh", NULL);
        img->env = strv("PATH=/img/bin", "A=image", "B=image", "GONE=image", NULL);
        run_image(body, img, &r);
        image_config_free(img);
        assert_ok(&r);
        /* defaults replaced in place, body's next, image's for names the body left alone */
        assert_joined(at(r.spec, "process.env"), "PATH=/opt/bin HOSTNAME=mine B=body NEW=1 HOME=/srv A=image");
        assert_string_equal(str_at(r.spec, "hostname"), "web");
}

static void env_errors(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, t = { 0 }, nul = { 0 };

        run_top("\"Env\":[\"=x\"]", &r);
        assert_error(&r, "Env[0]: invalid environment variable: =x");
        run_top("\"Env\":\"A=1\"", &t);
        assert_error(&t, "Env: expected an array of strings, got a string");
        run_top("\"Env\":[\"A=\\u0000x\"]", &nul);
        assert_error(&nul, "Env[0]: contains a NUL character");
}

static void working_dir(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, img_wd = { 0 }, bad = { 0 };
        struct image_config *img = busybox();

        run_top("\"WorkingDir\":\"/srv//app/./x/..\"", &r);
        assert_ok(&r);
        assert_string_equal(str_at(r.spec, "process.cwd"), "/srv/app");
        img->working_dir = xstrdup("/work");
        run_image("{\"HostConfig\":{\"NetworkMode\":\"none\"}}", img, &img_wd);
        image_config_free(img);
        assert_ok(&img_wd);
        assert_string_equal(str_at(img_wd.spec, "process.cwd"), "/work");
        run_top("\"WorkingDir\":\"rel\"", &bad);
        assert_error(&bad, "the working directory 'rel' is invalid, it needs to be an absolute path");
}

/* ---- users ---- */

static void user_cases(void **state)
{
        (void)state;
        static const struct {
                const char *user, *group_add;
                long long uid, gid;
                const char *gids, *home, *error;
        } cases[] = {
                { "", NULL, 0, 0, "0 10 11", "/root", NULL },
                { "alice", NULL, 1000, 1000, "1000 20 30", "/home/alice", NULL },
                { "1000", NULL, 1000, 1000, "1000 20 30", "/home/alice", NULL },
                { "alice:staff", NULL, 1000, 50, "50", "/home/alice", NULL },
                { "alice:60", NULL, 1000, 60, "60", "/home/alice", NULL },
                { "1234:5678", NULL, 1234, 5678, "5678", "/", NULL },
                { "1234", NULL, 1234, 0, "0", "/", NULL },
                { "bob", NULL, 1001, 100, "100 30", "/home/bob", NULL },
                { "alice", "[\"staff\",\"777\",\"audio\"]", 1000, 1000, "1000 20 30 50 777", "/home/alice", NULL },
                { "nobody", NULL, 0, 0, NULL, NULL, "unable to find user nobody: no matching entries in passwd file" },
                { "alice:nogroup", NULL, 0, 0, NULL, NULL, "unable to find group nogroup: no matching entries in group file" },
                { "alice", "[\"ghosts\"]", 0, 0, NULL, NULL, "unable to find group ghosts: no matching entries in group file" },
                { "99999999999", NULL, 0, 0, NULL, NULL, "uids and gids must be in range 0-2147483647" },
                { "a:b:c", NULL, 0, 0, NULL, NULL, "invalid user a:b:c" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_result_ struct result r = { 0 };
                _cleanup_free_ char *top = xasprintf("\"User\":\"%s\"", cases[i].user);
                _cleanup_free_ char *hc = cases[i].group_add ? xasprintf("\"GroupAdd\":%s", cases[i].group_add) : xstrdup("");
                _cleanup_free_ char *body = body_with(top, hc);

                run(body, &r);
                if (cases[i].error) {
                        if (r.error == NULL || strstr(r.error, cases[i].error) == NULL)
                                fail_msg("case %zu (%s): want \"%s\", got %s", i, cases[i].user, cases[i].error,
                                         r.error ? r.error : "success");
                        continue;
                }
                if (r.error)
                        fail_msg("case %zu (%s): %s", i, cases[i].user, r.error);
                assert_int_equal(json_integer_value(at(r.spec, "process.user.uid")), cases[i].uid);
                assert_int_equal(json_integer_value(at(r.spec, "process.user.gid")), cases[i].gid);
                _cleanup_free_ char *gids = xstrdup("");
                size_t k;
                json_t *g;
                json_array_foreach(at(r.spec, "process.user.additionalGids"), k, g) {
                        char *next = xasprintf("%s%s%lld", gids, k ? " " : "", (long long)json_integer_value(g));
                        free(gids);
                        gids = next;
                }
                if (strcmp(gids, cases[i].gids) != 0)
                        fail_msg("case %zu (%s): gids \"%s\", want \"%s\"", i, cases[i].user, gids, cases[i].gids);
                assert_string_equal(r.info.home, cases[i].home);
                assert_int_equal(r.info.uid, cases[i].uid);
                _cleanup_free_ char *home = xasprintf("HOME=%s", cases[i].home);
                assert_true(env_has(r.spec, home));
        }
}

static void user_from_image_and_missing_files(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, numeric = { 0 }, named = { 0 };
        struct image_config *img = busybox();
        struct docker_spec_input in = base_input();
        char empty[] = "/tmp/berth-test-empty-XXXXXX";

        img->user = xstrdup("bob");
        run_image("{\"HostConfig\":{\"NetworkMode\":\"none\"}}", img, &r);
        image_config_free(img);
        assert_ok(&r);
        assert_int_equal(r.info.uid, 1001);
        /* no /etc/passwd: numeric ids only, as Docker */
        assert_non_null(mkdtemp(empty));
        in.rootfs = empty;
        run_input(&in, "{\"Cmd\":[\"x\"],\"User\":\"7:8\",\"HostConfig\":{\"NetworkMode\":\"none\"}}", &numeric);
        assert_ok(&numeric);
        assert_int_equal(numeric.info.uid, 7);
        assert_int_equal(numeric.info.gid, 8);
        in = base_input();
        in.rootfs = empty;
        run_input(&in, "{\"Cmd\":[\"x\"],\"User\":\"alice\",\"HostConfig\":{\"NetworkMode\":\"none\"}}", &named);
        assert_error(&named, "unable to find user alice: no matching entries in passwd file");
        rmdir(empty);
}

static void user_symlink_stays_in_rootfs(void **state)
{
        (void)state;
        char dir[] = "/tmp/berth-test-link-XXXXXX", host[] = "/tmp/berth-test-host-XXXXXX";
        struct docker_user u;
        berth_error_t *err = NULL;
        _cleanup_free_ char *etc = NULL, *link = NULL, *target = NULL, *bait = NULL;

        /* /etc/passwd -> /../../../<host file>: an image must not make
         * Berth read the host's files; inside the rootfs the target is
         * missing, so the file reads as absent */
        assert_non_null(mkdtemp(dir));
        assert_non_null(mkdtemp(host));
        bait = xasprintf("%s/passwd", host);
        write_text(host, "passwd", "escaped:x:4242:4242::/escaped:/bin/sh\n");
        etc = xasprintf("%s/etc", dir);
        link = xasprintf("%s/etc/passwd", dir);
        target = xasprintf("/../../../..%s", bait);
        assert_int_equal(mkdir(etc, 0755), 0);
        assert_int_equal(symlink(target, link), 0);
        assert_true(docker_user_resolve(dir, "escaped", NULL, &u, &err) < 0);
        assert_string_equal(err->msg, "unable to find user escaped: no matching entries in passwd file");
        berth_error_free(&err);
        /* a link to itself is an error, not a hang */
        unlink(link);
        assert_int_equal(symlink("/../etc/passwd", link), 0);
        assert_true(docker_user_resolve(dir, "root", NULL, &u, &err) < 0);
        assert_non_null(strstr(err->msg, "open /etc/passwd in the container"));
        berth_error_free(&err);
        unlink(link);
        unlink(bait);
        rmdir(etc);
        rmdir(dir);
        rmdir(host);
}

/* ---- capabilities and privilege ---- */

static void caps_add_drop(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, all = { 0 }, none = { 0 }, bad = { 0 }, allbut = { 0 };

        run_hc("\"CapAdd\":[\"sys_admin\",\"CAP_NET_ADMIN\"],\"CapDrop\":[\"chown\",\"Cap_Kill\"]", &r);
        assert_ok(&r);
        json_t *b = at(r.spec, "process.capabilities.bounding");
        assert_true(array_has(b, "CAP_SYS_ADMIN"));
        assert_true(array_has(b, "CAP_NET_ADMIN"));
        assert_false(array_has(b, "CAP_CHOWN"));
        assert_false(array_has(b, "CAP_KILL"));
        assert_true(array_has(b, "CAP_SETUID"));
        assert_int_equal(json_array_size(b), 14);

        run_hc("\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"NET_BIND_SERVICE\"]", &none);
        assert_ok(&none);
        assert_joined(at(none.spec, "process.capabilities.bounding"), "CAP_NET_BIND_SERVICE");

        run_hc("\"CapAdd\":[\"all\"],\"CapDrop\":[\"SYS_ADMIN\"]", &allbut);
        assert_ok(&allbut);
        assert_false(array_has(at(allbut.spec, "process.capabilities.bounding"), "CAP_SYS_ADMIN"));
        assert_true(array_has(at(allbut.spec, "process.capabilities.bounding"), "CAP_SYS_MODULE"));

        run_hc("\"CapAdd\":[\"ALL\"]", &all);
        assert_ok(&all);
        assert_true(json_array_size(at(all.spec, "process.capabilities.bounding")) >= 38);
        /* every capability rule of the default profile applied */
        assert_non_null(syscall_rule_with(all.spec, "reboot"));
        assert_null(at(all.spec, "linux.seccomp.berthCapabilityRules"));
        assert_compiles(all.spec);

        run_hc("\"CapAdd\":[\"CAP_FLY\"]", &bad);
        assert_error(&bad, "HostConfig.CapAdd: unknown capability: \"CAP_FLY\"");
}

static void privileged(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        _cleanup_free_ char *node = xasprintf("%s/null", hostdev);
        bool have_node = mknod(node, S_IFCHR | 0666, makedev(1, 3)) == 0;
        json_t *s;

        run_hc("\"Privileged\":true,\"SecurityOpt\":[\"seccomp=unconfined\"]", &r);
        unlink(node);
        assert_ok(&r);
        s = r.spec;
        assert_true(array_has(at(s, "process.capabilities.bounding"), "CAP_SYS_ADMIN"));
        assert_true(array_has(at(s, "process.capabilities.effective"), "CAP_SYS_MODULE"));
        assert_null(at(s, "linux.seccomp"));
        assert_int_equal(json_array_size(at(s, "linux.maskedPaths")), 0);
        assert_int_equal(json_array_size(at(s, "linux.readonlyPaths")), 0);
        assert_joined(at(find_mount(s, "/sys"), "options"), "nosuid noexec nodev");
        assert_joined(at(find_mount(s, "/sys/fs/cgroup"), "options"), "nosuid noexec nodev");
        assert_true(json_is_true(at(s, "linux.resources.devices.1.allow")));
        assert_null(at(s, "linux.resources.devices.1.type"));
        if (have_node) {
                assert_string_equal(str_at(s, "linux.devices.0.path"), "/dev/null");
                assert_int_equal(json_integer_value(at(s, "linux.devices.0.major")), 1);
                assert_int_equal(json_integer_value(at(s, "linux.devices.0.minor")), 3);
        }
}

static void security_opts(void **state)
{
        (void)state;
        _cleanup_result_ struct result nnp = { 0 }, nnp_false = { 0 }, aa = { 0 }, bad = { 0 }, paths = { 0 };
        _cleanup_result_ struct result bool_bad = { 0 };

        run_hc("\"SecurityOpt\":[\"no-new-privileges\"]", &nnp);
        assert_ok(&nnp);
        assert_true(json_is_true(at(nnp.spec, "process.noNewPrivileges")));
        run_hc("\"SecurityOpt\":[\"no-new-privileges:true\",\"no-new-privileges=false\",\"label=disable\"]", &nnp_false);
        assert_ok(&nnp_false);
        assert_false(json_is_true(at(nnp_false.spec, "process.noNewPrivileges")));
        run_hc("\"SecurityOpt\":[\"apparmor=docker-default\"]", &aa);
        assert_ok(&aa);
        assert_int_equal(aa.info.n_warnings, 1);
        assert_non_null(strstr(aa.info.warnings[0], "AppArmor is not supported"));
        run_hc("\"SecurityOpt\":[\"bogus=1\"]", &bad);
        assert_error(&bad, "HostConfig.SecurityOpt: unknown option bogus=1");
        run_hc("\"SecurityOpt\":[\"no-new-privileges=maybe\"]", &bool_bad);
        assert_error(&bool_bad, "invalid boolean");
        run_hc("\"MaskedPaths\":[],\"ReadonlyPaths\":[\"/proc/sys\"]", &paths);
        assert_ok(&paths);
        assert_int_equal(json_array_size(at(paths.spec, "linux.maskedPaths")), 0);
        assert_joined(at(paths.spec, "linux.readonlyPaths"), "/proc/sys");
}

/* ---- seccomp ---- */

static json_t *syscall_rule_with(json_t *spec, const char *name)
{
        size_t i;
        json_t *rule;

        json_array_foreach(at(spec, "linux.seccomp.syscalls"), i, rule)
                if (array_has(json_object_get(rule, "names"), name))
                        return rule;
        return NULL;
}

/* The runtime compiles what we emit. */
static void assert_compiles(json_t *spec)
{
        struct seccomp_program prog = { 0 };
        berth_error_t *err = NULL;

        if (seccomp_program_build(at(spec, "linux.seccomp"), NULL, &prog, &err) < 0)
                fail_msg("the runtime cannot compile the profile: %s", err->msg);
        assert_true(prog.len > 0);
        seccomp_program_free(&prog);
}

static void seccomp_default_and_capability_rules(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, admin = { 0 }, unconfined = { 0 };
        json_t *rule;

        run_hc("", &r);
        assert_ok(&r);
        assert_string_equal(str_at(r.spec, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
        assert_null(at(r.spec, "linux.seccomp.berthCapabilityRules"));
        assert_null(syscall_rule_with(r.spec, "mount"));
        assert_null(syscall_rule_with(r.spec, "unshare"));
        assert_non_null(syscall_rule_with(r.spec, "read"));
        /* clone is allowed only without CLONE_NEW* flags */
        assert_non_null(at(syscall_rule_with(r.spec, "clone"), "args"));
        assert_compiles(r.spec);

        run_hc("\"CapAdd\":[\"SYS_ADMIN\"]", &admin);
        assert_ok(&admin);
        rule = syscall_rule_with(admin.spec, "mount");
        assert_non_null(rule);
        assert_string_equal(str_at(rule, "action"), "SCMP_ACT_ALLOW");
        /* clone moved out of its argument rule into the unconditional one */
        assert_true(syscall_rule_with(admin.spec, "clone") == rule);
        assert_null(json_object_get(rule, "args"));
        assert_null(syscall_rule_with(admin.spec, "reboot"));
        assert_compiles(admin.spec);

        run_hc("\"SecurityOpt\":[\"seccomp=unconfined\"]", &unconfined);
        assert_ok(&unconfined);
        assert_null(at(unconfined.spec, "linux.seccomp"));
}

static void seccomp_custom_docker_format(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, bad = { 0 }, both = { 0 };
        static const char profile[] =
                "{\\\"defaultAction\\\":\\\"SCMP_ACT_ERRNO\\\",\\\"archMap\\\":[{\\\"architecture\\\":\\\"SCMP_ARCH_X86_64\\\","
                "\\\"subArchitectures\\\":[\\\"SCMP_ARCH_X86\\\"]},{\\\"architecture\\\":\\\"SCMP_ARCH_AARCH64\\\","
                "\\\"subArchitectures\\\":[\\\"SCMP_ARCH_ARM\\\"]}],\\\"syscalls\\\":["
                "{\\\"names\\\":[\\\"read\\\"],\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\"},"
                "{\\\"name\\\":\\\"write\\\",\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"comment\\\":\\\"x\\\"},"
                "{\\\"names\\\":[\\\"mount\\\"],\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"includes\\\":{\\\"caps\\\":[\\\"CAP_SYS_ADMIN\\\"]}},"
                "{\\\"names\\\":[\\\"chown\\\"],\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"excludes\\\":{\\\"caps\\\":[\\\"CAP_CHOWN\\\"]}},"
                "{\\\"names\\\":[\\\"ptrace\\\"],\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"includes\\\":{\\\"minKernel\\\":\\\"4.8\\\"}}]}";
        _cleanup_free_ char *hc = xasprintf("\"SecurityOpt\":[\"seccomp=%s\"]", profile);

        run_hc(hc, &r);
        assert_ok(&r);
#if defined(__x86_64__)
        assert_joined(at(r.spec, "linux.seccomp.architectures"), "SCMP_ARCH_X86_64 SCMP_ARCH_X86");
#endif
        assert_null(at(r.spec, "linux.seccomp.archMap"));
        assert_non_null(syscall_rule_with(r.spec, "read"));
        assert_non_null(syscall_rule_with(r.spec, "write"));
        assert_null(json_object_get(syscall_rule_with(r.spec, "write"), "name"));
        assert_null(json_object_get(syscall_rule_with(r.spec, "write"), "comment"));
        assert_null(syscall_rule_with(r.spec, "mount"));        /* no CAP_SYS_ADMIN */
        assert_null(syscall_rule_with(r.spec, "chown"));        /* has CAP_CHOWN */
        assert_non_null(syscall_rule_with(r.spec, "ptrace"));
        assert_null(json_object_get(syscall_rule_with(r.spec, "ptrace"), "includes"));
        assert_compiles(r.spec);

        run_hc("\"SecurityOpt\":[\"seccomp={not json\"]", &bad);
        assert_error(&bad, "HostConfig.SecurityOpt: seccomp profile: line 1");
        run_hc("\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ERRNO\\\",\\\"architectures\\\":[],"
               "\\\"archMap\\\":[]}\"]", &both);
        assert_error(&both, "use either 'architectures' or 'archMap'");
}

static void seccomp_none_configured(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        struct docker_spec_input in = base_input();

        in.seccomp_default = NULL;
        run_input(&in, "{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"none\"}}", &r);
        assert_ok(&r);
        assert_null(at(r.spec, "linux.seccomp"));
        assert_int_equal(r.info.n_warnings, 1);
}

/* ---- resources ---- */

static void resources_mapping(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, cpus = { 0 }, unlimited = { 0 };
        json_t *res;

        run_hc("\"Memory\":268435456,\"MemoryReservation\":134217728,\"CpuShares\":512,\"CpuQuota\":50000,"
               "\"CpuPeriod\":100000,\"CpusetCpus\":\"0-1,3\",\"CpusetMems\":\"0\",\"PidsLimit\":100,"
               "\"MemorySwappiness\":10,\"OomKillDisable\":true,\"OomScoreAdj\":-500,\"BlkioWeight\":300,"
               "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":4096},{\"Name\":\"core\",\"Soft\":-1,\"Hard\":-1}]",
               &r);
        assert_ok(&r);
        res = at(r.spec, "linux.resources");
        assert_int_equal(json_integer_value(at(res, "memory.limit")), 268435456);
        assert_int_equal(json_integer_value(at(res, "memory.swap")), 2 * 268435456LL);    /* Docker: swap = memory */
        assert_int_equal(json_integer_value(at(res, "memory.reservation")), 134217728);
        assert_int_equal(json_integer_value(at(res, "memory.swappiness")), 10);
        assert_true(json_is_true(at(res, "memory.disableOOMKiller")));
        assert_int_equal(json_integer_value(at(res, "cpu.shares")), 512);
        assert_int_equal(json_integer_value(at(res, "cpu.quota")), 50000);
        assert_int_equal(json_integer_value(at(res, "cpu.period")), 100000);
        assert_string_equal(str_at(res, "cpu.cpus"), "0-1,3");
        assert_string_equal(str_at(res, "cpu.mems"), "0");
        assert_int_equal(json_integer_value(at(res, "pids.limit")), 100);
        assert_int_equal(json_integer_value(at(res, "blockIO.weight")), 300);
        assert_int_equal(json_integer_value(at(r.spec, "process.oomScoreAdj")), -500);
        assert_string_equal(str_at(r.spec, "process.rlimits.0.type"), "RLIMIT_NOFILE");
        assert_int_equal(json_integer_value(at(r.spec, "process.rlimits.0.soft")), 1024);
        assert_int_equal(json_integer_value(at(r.spec, "process.rlimits.0.hard")), 4096);
        assert_string_equal(str_at(r.spec, "process.rlimits.1.type"), "RLIMIT_CORE");
        assert_int_equal(json_integer_value(at(r.spec, "process.rlimits.1.hard")), -1);

        run_hc("\"NanoCpus\":1500000000,\"Memory\":67108864,\"MemorySwap\":-1", &cpus);
        assert_ok(&cpus);
        assert_int_equal(json_integer_value(at(cpus.spec, "linux.resources.cpu.quota")), 150000);
        assert_int_equal(json_integer_value(at(cpus.spec, "linux.resources.cpu.period")), 100000);
        assert_int_equal(json_integer_value(at(cpus.spec, "linux.resources.memory.swap")), -1);

        run_hc("\"PidsLimit\":-1,\"MemorySwappiness\":-1", &unlimited);
        assert_ok(&unlimited);
        assert_null(at(unlimited.spec, "linux.resources.pids"));
        assert_null(at(unlimited.spec, "linux.resources.memory"));
}

static void resources_errors(void **state)
{
        (void)state;
        static const struct { const char *hc, *error; } cases[] = {
                { "\"Memory\":1000", "Minimum memory limit allowed is 6MB" },
                { "\"MemorySwap\":100000000", "You should always set the Memory limit when using Memoryswap limit" },
                { "\"Memory\":100000000,\"MemorySwap\":50000000", "Minimum memoryswap limit should be larger than memory limit" },
                { "\"Memory\":10000000,\"MemoryReservation\":20000000", "can not be less than memory reservation limit" },
                { "\"NanoCpus\":1000000000,\"CpuQuota\":50000", "Nano CPUs and CPU Quota cannot both be set" },
                { "\"NanoCpus\":1000000000,\"CpuPeriod\":50000", "Nano CPUs and CPU Period cannot both be set" },
                { "\"CpuPeriod\":100", "CPU cfs period can not be less than 1ms" },
                { "\"CpuQuota\":100", "CPU cfs quota can not be less than 1ms" },
                { "\"CpusetCpus\":\"0-\"", "Invalid value 0- for cpuset cpus" },
                { "\"MemorySwappiness\":101", "valid memory swappiness range is 0-100" },
                { "\"BlkioWeight\":5", "Range of blkio weight is from 10 to 1000" },
                { "\"OomScoreAdj\":1001", "range for oom score adj is [-1000, 1000]" },
                { "\"Ulimits\":[{\"Name\":\"nofiles\",\"Soft\":1,\"Hard\":1}]", "invalid ulimit type: nofiles" },
                { "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":10,\"Hard\":1}]", "ulimit soft limit must be less than or equal to hard limit: 10 > 1" },
                { "\"Memory\":\"1g\"", "HostConfig.Memory: expected an integer, got a string" },
                { "\"Memory\":1e9", "HostConfig.Memory: expected an integer" },
                { "\"ShmSize\":-1", "SHM size can not be less than 0" },
                { "\"Devices\":[{\"PathOnHost\":\"/nonexistent-dev\"}]", "error gathering device information while adding custom device /nonexistent-dev" },
                { "\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"CgroupPermissions\":\"rwx\"}]", "invalid device mode: rwx" },
                { "\"DeviceCgroupRules\":[\"c 1:3\"]", "invalid device cgroup format 'c 1:3'" },
                { "\"RestartPolicy\":{\"Name\":\"sometimes\"}", "invalid restart policy: unknown policy 'sometimes'" },
                { "\"RestartPolicy\":{\"Name\":\"always\",\"MaximumRetryCount\":3}", "maximum retry count can only be used with 'on-failure'" },
                { "\"RestartPolicy\":{\"Name\":\"always\"},\"AutoRemove\":true", "can't create 'AutoRemove' container with restart policy" },
                { "\"IpcMode\":\"weird\"", "invalid IPC mode: weird" },
                { "\"PidMode\":\"weird\"", "invalid PID mode: weird" },
                { "\"UsernsMode\":\"private\"", "user namespaces are not supported yet" },
                { "\"Sysctls\":{\"kernel.panic\":\"1\"}", "HostConfig.Sysctls: sysctl \"kernel.panic\" is not in a separate kernel namespace" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_result_ struct result r = { 0 };
                run_hc(cases[i].hc, &r);
                if (r.error == NULL || strstr(r.error, cases[i].error) == NULL)
                        fail_msg("case %zu (%s): want \"%s\", got %s", i, cases[i].hc, cases[i].error,
                                 r.error ? r.error : "success");
        }
}

static void devices_and_rules(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        json_t *rules;

        run_hc("\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\",\"CgroupPermissions\":\"rw\"}],"
               "\"DeviceCgroupRules\":[\"c 10:* rwm\",\"a *:* m\"]", &r);
        assert_ok(&r);
        assert_string_equal(str_at(r.spec, "linux.devices.0.path"), "/dev/mynull");
        assert_string_equal(str_at(r.spec, "linux.devices.0.type"), "c");
        assert_int_equal(json_integer_value(at(r.spec, "linux.devices.0.major")), 1);
        assert_int_equal(json_integer_value(at(r.spec, "linux.devices.0.minor")), 3);
        rules = at(r.spec, "linux.resources.devices");
        assert_int_equal(json_array_size(rules), 4);
        assert_string_equal(str_at(rules, "1.access"), "rw");
        assert_int_equal(json_integer_value(at(rules, "2.major")), 10);
        assert_null(at(rules, "2.minor"));
        assert_string_equal(str_at(rules, "3.type"), "a");
}

static void misc_settings(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        _cleanup_free_ char *body = body_with("\"StopSignal\":\"SIGINT\",\"StopTimeout\":30,\"Domainname\":\"example.org\"",
                                              "\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":5},"
                                              "\"Annotations\":{\"a.b/c\":\"d\"},\"CgroupParent\":\"mygroup\","
                                              "\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"},\"IpcMode\":\"host\","
                                              "\"PidMode\":\"host\",\"UTSMode\":\"\",\"CgroupnsMode\":\"host\"");

        run(body, &r);
        assert_ok(&r);
        assert_int_equal(r.info.stop_signal, SIGINT);
        assert_true(r.info.stop_timeout_set);
        assert_int_equal(r.info.stop_timeout, 30);
        assert_int_equal(r.info.restart, DOCKER_RESTART_ON_FAILURE);
        assert_int_equal(r.info.restart_max_retries, 5);
        assert_string_equal(str_at(r.spec, "domainname"), "example.org");
        assert_string_equal(json_string_value(json_object_get(at(r.spec, "annotations"), "a.b/c")), "d");
        assert_string_equal(str_at(r.spec, "linux.cgroupsPath"), "mygroup/d6f7782dfc5ded6702d039f1c4121eb2df66979a3b2d3d77fa31536ec8c4b951");
        assert_string_equal(json_string_value(json_object_get(at(r.spec, "linux.sysctl"), "net.ipv4.ip_forward")), "1");
        assert_null(find_ns(r.spec, "ipc"));
        assert_null(find_ns(r.spec, "pid"));
        assert_null(find_ns(r.spec, "cgroup"));
        assert_non_null(find_ns(r.spec, "uts"));
        /* host IPC: the host's /dev/shm */
        assert_string_equal(str_at(find_mount(r.spec, "/dev/shm"), "source"), "/dev/shm");
        assert_string_equal(str_at(find_mount(r.spec, "/dev/shm"), "type"), "bind");
}

/* ---- mounts ---- */

static void readonly_rootfs_and_etc_files(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, covered = { 0 };
        struct docker_spec_input in = base_input();
        _cleanup_free_ char *body = body_with("", "\"ReadonlyRootfs\":true");
        _cleanup_free_ char *body2 = body_with("", "\"Binds\":[\"/srv/hosts:/etc/hosts:ro\"]");

        in.hostname_path = "/var/lib/berth/containers/x/hostname";
        in.hosts_path = "/var/lib/berth/containers/x/hosts";
        in.resolv_conf_path = "/var/lib/berth/containers/x/resolv.conf";
        run_input(&in, body, &r);
        assert_ok(&r);
        assert_true(json_is_true(at(r.spec, "root.readonly")));
        assert_string_equal(str_at(find_mount(r.spec, "/etc/hosts"), "source"), "/var/lib/berth/containers/x/hosts");
        assert_joined(at(find_mount(r.spec, "/etc/hosts"), "options"), "rbind rprivate ro");
        assert_non_null(find_mount(r.spec, "/etc/hostname"));
        assert_non_null(find_mount(r.spec, "/etc/resolv.conf"));

        in = base_input();
        in.hosts_path = "/var/lib/berth/containers/x/hosts";
        run_input(&in, body2, &covered);
        assert_ok(&covered);
        assert_string_equal(str_at(find_mount(covered.spec, "/etc/hosts"), "source"), "/srv/hosts");
        assert_int_equal(json_array_size(json_object_get(covered.spec, "mounts")), 8);
}

static void tmpfs_mounts(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 }, bad = { 0 };
        json_t *m;

        run_hc("\"Tmpfs\":{\"/run\":\"rw,exec,size=65536k\",\"/run/lock\":\"\"},"
               "\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/scratch\",\"ReadOnly\":true,"
               "\"TmpfsOptions\":{\"SizeBytes\":1073741824,\"Mode\":1023,\"Options\":[[\"exec\"]]}}]", &r);
        assert_ok(&r);
        m = find_mount(r.spec, "/run");
        assert_string_equal(str_at(m, "type"), "tmpfs");
        assert_joined(at(m, "options"), "nosuid nodev rprivate rw exec size=65536k");
        assert_joined(at(find_mount(r.spec, "/run/lock"), "options"), "noexec nosuid nodev rprivate");
        assert_joined(at(find_mount(r.spec, "/scratch"), "options"), "nosuid nodev rprivate ro mode=1777 size=1g exec");
        /* parents before children, whatever the map order */
        {
                size_t i, run_at = 0, lock_at = 0;
                json_t *x;
                json_array_foreach(json_object_get(r.spec, "mounts"), i, x) {
                        if (strcmp(str_at(x, "destination"), "/run") == 0)
                                run_at = i;
                        if (strcmp(str_at(x, "destination"), "/run/lock") == 0)
                                lock_at = i;
                }
                assert_true(run_at < lock_at);
        }
        run_hc("\"Tmpfs\":{\"/run\":\"bogus\"}", &bad);
        assert_error(&bad, "HostConfig.Tmpfs[/run]: invalid tmpfs option bogus");
}

static void bind_options_and_errors(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        static const struct { const char *hc, *error; } cases[] = {
                { "\"Binds\":[\"/a:/b:rw,ro\"]", "HostConfig.Binds[0]: invalid mode: rw,ro" },
                { "\"Binds\":[\"/a:rw\"]", "HostConfig.Binds[0]: invalid mode: rw" },
                { "\"Binds\":[\"/a:/b:c:d\"]", "invalid volume specification: '/a:/b:c:d'" },
                { "\"Binds\":[\"/a:b\"]", "invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute" },
                { "\"Binds\":[\"/a:/\"]", "invalid specification: destination can't be '/'" },
                { "\"Binds\":[\"/a:/x\",\"/b:/x/\"]", "Duplicate mount point: /x" },
                { "\"Binds\":[\"./rel:/x\"]", "\"./rel\" includes invalid characters for a local volume name" },
                { "\"Binds\":[\"vol:/x:rshared\"]", "invalid mount config for type \"volume\": field BindOptions must not be specified" },
                { "\"Binds\":[\"/a:/x:nocopy\"]", "invalid mount config for type \"bind\": field VolumeOptions must not be specified" },
                { "\"Mounts\":[{\"Type\":\"bind\",\"Target\":\"/x\"}]", "invalid mount config for type \"bind\": field Source must not be empty" },
                { "\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/a\"}]", "invalid mount config for type \"bind\": field Target must not be empty" },
                { "\"Mounts\":[{\"Type\":\"npipe\",\"Source\":\"/a\",\"Target\":\"/x\"}]", "invalid mount config for type \"npipe\": mount type unknown" },
                { "\"Mounts\":[{\"Type\":\"tmpfs\",\"Source\":\"/a\",\"Target\":\"/x\"}]", "field Source must not be specified" },
                { "\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/x\",\"ReadOnly\":true}]", "must not set ReadOnly mode when using anonymous volumes" },
                { "\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v1\",\"Target\":\"/x\",\"VolumeOptions\":{\"Subpath\":\"../up\"}}]", "subpath must be a relative path within the volume" },
                { "\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/x\",\"BindOptions\":{\"Propagation\":\"weird\"}}]", "invalid propagation mode: weird" },
                { "\"VolumesFrom\":[\"other\"]", "--volumes-from is not supported yet" },
                { "\"VolumeDriver\":\"nfs\"", "volume driver nfs is not supported" },
        };

        run_hc("\"Binds\":[\"/src//a/:/dst/x/../y:ro,rshared,Z\",\"named:/n:nocopy\",\"/anon\"],"
               "\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/h\",\"Target\":\"/b\",\"BindOptions\":{\"NonRecursive\":true,"
               "\"CreateMountpoint\":true}}]", &r);
        assert_ok(&r);
        json_t *m = find_mount(r.spec, "/dst/y");
        assert_string_equal(str_at(m, "source"), "/src/a");
        assert_joined(at(m, "options"), "rbind ro rshared");
        assert_string_equal(str_at(r.spec, "linux.rootfsPropagation"), "rshared");
        assert_joined(at(find_mount(r.spec, "/b"), "options"), "bind rprivate");
        assert_string_equal(str_at(find_mount(r.spec, "/anon"), "source"), "/var/lib/berth/volumes/anon1/_data");
        for (size_t i = 0; i < r.info.n_mounts; i++) {
                struct docker_mount *dm = &r.info.mounts[i];
                if (strcmp(dm->destination, "/n") == 0)
                        assert_true(dm->nocopy);
                if (strcmp(dm->destination, "/b") == 0)
                        assert_false(dm->must_exist);
                if (strcmp(dm->destination, "/anon") == 0) {
                        assert_true(dm->anonymous);
                        assert_string_equal(dm->source, "anon1");
                }
        }
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_result_ struct result e = { 0 };
                run_hc(cases[i].hc, &e);
                if (e.error == NULL || strstr(e.error, cases[i].error) == NULL)
                        fail_msg("case %zu (%s): want \"%s\", got %s", i, cases[i].hc, cases[i].error,
                                 e.error ? e.error : "success");
        }
}

static void image_and_config_volumes(void **state)
{
        (void)state;
        _cleanup_result_ struct result r = { 0 };
        struct image_config *img = busybox();
        _cleanup_free_ char *body = body_with("\"Volumes\":{\"/cfg\":{}}", "\"Binds\":[\"/host:/data\"]");

        img->volumes = strv("/data", "/var/lib/app", NULL);
        run_image(body, img, &r);
        image_config_free(img);
        assert_ok(&r);
        /* /data is already a bind: no volume there */
        assert_string_equal(str_at(find_mount(r.spec, "/data"), "source"), "/host");
        assert_non_null(find_mount(r.spec, "/cfg"));
        assert_non_null(find_mount(r.spec, "/var/lib/app"));
        assert_int_equal(r.info.n_mounts, 3);
}

static void volume_without_source_is_an_engine_bug(void **state)
{
        (void)state;
        struct docker_spec_input in = base_input();
        _cleanup_json_ json_t *create = json_loads("{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"none\","
                                                   "\"Binds\":[\"v1:/v\"]}}", 0, NULL);
        struct docker_spec_info info;
        json_t *spec = NULL;
        berth_error_t *err = NULL;

        in.create = create;
        assert_int_equal(docker_spec_build(&in, &spec, &info, &err), -1);
        assert_non_null(strstr(err->msg, "volume at /v"));
        assert_null(spec);
        assert_null(info.mounts);
        berth_error_free(&err);
}

/* ---- networks and namespaces ---- */

static void network_modes(void **state)
{
        (void)state;
        _cleanup_result_ struct result none = { 0 }, host = { 0 }, ctr = { 0 }, bridge = { 0 }, custom = { 0 };
        _cleanup_result_ struct result noctr = { 0 }, conflict = { 0 }, ports = { 0 }, published = { 0 };
        struct docker_spec_input in = base_input();

        run_hc("", &none);
        assert_ok(&none);
        assert_non_null(find_ns(none.spec, "network"));

        run_hc("\"NetworkMode\":\"host\",\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"8080\"}]}", &host);
        assert_ok(&host);
        assert_null(find_ns(host.spec, "network"));
        assert_int_equal(host.info.n_warnings, 1);
        assert_string_equal(host.info.warnings[0], "Published ports are discarded when using host network mode");

        in.netns_path = "/proc/4242/ns/net";
        run_input(&in, "{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"container:web\"}}", &ctr);
        assert_ok(&ctr);
        assert_string_equal(str_at(find_ns(ctr.spec, "network"), "path"), "/proc/4242/ns/net");
        assert_int_equal(ctr.info.network, DOCKER_NETWORK_CONTAINER);

        run("{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"container:web\"}}", &noctr);
        assert_error(&noctr, "the engine gave no namespace to join");
        run_input(&in, "{\"Cmd\":[\"x\"],\"Hostname\":\"h\",\"HostConfig\":{\"NetworkMode\":\"container:web\"}}", &conflict);
        assert_error(&conflict, "conflicting options: hostname and the network mode");
        run_input(&in, "{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"container:web\",\"PublishAllPorts\":true}}", &ports);
        assert_error(&ports, "conflicting options: port publishing and the container type network mode");

        /* none ignores published ports, as dockerd */
        run_hc("\"NetworkMode\":\"none\",\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"8080\"}]}", &published);
        assert_ok(&published);
        assert_int_equal(published.info.n_warnings, 0);

        in.netns_path = "/run/berth/netns/c1";
        run_input(&in, "{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"bridge\"}}", &bridge);
        assert_ok(&bridge);
        assert_string_equal(str_at(find_ns(bridge.spec, "network"), "path"), "/run/berth/netns/c1");
        run_input(&in, "{\"Cmd\":[\"x\"],\"HostConfig\":{\"NetworkMode\":\"mynet\"}}", &custom);
        assert_ok(&custom);
        assert_int_equal(custom.info.network, DOCKER_NETWORK_BRIDGE);
}

static void uts_host_and_hostname_checks(void **state)
{
        (void)state;
        _cleanup_result_ struct result uts = { 0 }, bad = { 0 }, conflict = { 0 }, lower = { 0 };

        run_hc("\"UTSMode\":\"host\"", &uts);
        assert_ok(&uts);
        assert_null(find_ns(uts.spec, "uts"));
        assert_null(json_object_get(uts.spec, "hostname"));
        run_top("\"Hostname\":\"bad host\"", &bad);
        assert_error(&bad, "Hostname: invalid hostname format: bad host");
        run("{\"Cmd\":[\"x\"],\"Hostname\":\"h\",\"HostConfig\":{\"NetworkMode\":\"none\",\"UTSMode\":\"host\"}}", &conflict);
        assert_error(&conflict, "conflicting options: hostname and the UTS mode");
        /* Docker's decoder matches field names case-insensitively */
        run("{\"cmd\":[\"lower\"],\"hostconfig\":{\"networkmode\":\"none\"}}", &lower);
        assert_ok(&lower);
        assert_joined(at(lower.spec, "process.args"), "lower");
}

static void bad_bodies(void **state)
{
        (void)state;
        static const char *const bodies[] = {
                "[]", "{\"HostConfig\":[]}", "{\"Cmd\":[1],\"HostConfig\":{\"NetworkMode\":\"none\"}}", "{\"Cmd\":[\"x\"],\"HostConfig\":{\"Privileged\":\"yes\"}}",
                "{\"Cmd\":[\"x\"],\"StopSignal\":\"SIGFOO\",\"HostConfig\":{\"NetworkMode\":\"none\"}}",
        };
        static const char *const errors[] = {
                "container config: expected a JSON object", "HostConfig: expected an object, got an array",
                "Cmd[0]: expected a string, got an integer", "HostConfig.Privileged: expected a boolean, got a string",
                "StopSignal: invalid signal: SIGFOO",
        };

        for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
                _cleanup_result_ struct result r = { 0 };
                run(bodies[i], &r);
                if (r.error == NULL || strstr(r.error, errors[i]) == NULL)
                        fail_msg("body %zu: want \"%s\", got %s", i, errors[i], r.error ? r.error : "success");
        }
}

/* ---- setup ---- */

static int setup(void **state)
{
        (void)state;
        _cleanup_free_ char *etc = NULL;
        const char *script = REGISTRY_SCRIPT, *cut = strstr(script, "tests/registry/");

        assert_non_null(mkdtemp(rootfs));
        assert_non_null(mkdtemp(hostdev));
        etc = xasprintf("%s/etc", rootfs);
        assert_int_equal(mkdir(etc, 0755), 0);
        write_text(etc, "passwd",
                   "root:x:0:0:root:/root:/bin/sh\n"
                   "# a comment line matches nothing\n"
                   "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                   "  bob:x:1001:100::/home/bob:/bin/sh  \r\n"
                   "broken:x:notanumber:1\n"
                   "alice:x:2000:2000:second alice loses:/nope:/bin/sh\n");
        write_text(etc, "group",
                   "root:x:0:\n"
                   "wheel:x:10:root\n"
                   "floppy:x:11:root\n"
                   "dialout:x:20:alice\n"
                   "audio:x:30:alice,bob\n"
                   "staff:x:50:\n"
                   "users:x:100:\n"
                   "alice:x:1000:\n");
        /* the repository's default profile, found from the source root */
        seccomp_path = xasprintf("%.*sprofiles/seccomp/default.json", (int)(cut - script), script);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        _cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", rootfs), *group = xasprintf("%s/etc/group", rootfs);
        _cleanup_free_ char *etc = xasprintf("%s/etc", rootfs);

        unlink(passwd);
        unlink(group);
        rmdir(etc);
        rmdir(rootfs);
        rmdir(hostdev);
        free(seccomp_path);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(trace_default_network_joins_engine_namespace),
                cmocka_unit_test(trace_create_start_spec),
                cmocka_unit_test(trace_default_mounts),
                cmocka_unit_test(trace_run_volumes_named),
                cmocka_unit_test(trace_run_volumes_binds),
                cmocka_unit_test(trace_run_it_tty),
                cmocka_unit_test(entrypoint_cmd_table),
                cmocka_unit_test(init_wraps_the_command),
                cmocka_unit_test(env_merge),
                cmocka_unit_test(env_errors),
                cmocka_unit_test(working_dir),
                cmocka_unit_test(user_cases),
                cmocka_unit_test(user_from_image_and_missing_files),
                cmocka_unit_test(user_symlink_stays_in_rootfs),
                cmocka_unit_test(caps_add_drop),
                cmocka_unit_test(privileged),
                cmocka_unit_test(security_opts),
                cmocka_unit_test(seccomp_default_and_capability_rules),
                cmocka_unit_test(seccomp_custom_docker_format),
                cmocka_unit_test(seccomp_none_configured),
                cmocka_unit_test(resources_mapping),
                cmocka_unit_test(resources_errors),
                cmocka_unit_test(devices_and_rules),
                cmocka_unit_test(misc_settings),
                cmocka_unit_test(readonly_rootfs_and_etc_files),
                cmocka_unit_test(tmpfs_mounts),
                cmocka_unit_test(bind_options_and_errors),
                cmocka_unit_test(image_and_config_volumes),
                cmocka_unit_test(volume_without_source_is_an_engine_bug),
                cmocka_unit_test(network_modes),
                cmocka_unit_test(uts_host_and_hostname_checks),
                cmocka_unit_test(bad_bodies),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
