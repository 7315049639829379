#!/usr/bin/env python3
"""Write OCI image layouts for the image tests, made here from Debian's
busybox-static: no network, no registry.  Push them with
`skopeo copy --all oci:DIR:TAG docker://...`.

    mkimages.py OUTDIR KIND...

Kinds (each becomes OUTDIR/KIND, an OCI layout with tag "latest"):
  one        one gzip layer: busybox, its applet links, the usual dirs
  multi      three layers: busybox; files; whiteouts (.wh.a) and an opaque
             directory (.wh..wh..opq) hiding the lower content
  zstd       the multi image with zstd and uncompressed layers
  list       an index of two single-layer images, linux/amd64 and
             linux/arm64, each with /platform naming itself
  many       busybox plus 120 one-file layers (many/0 ... many/119)
  big        ~100 MB in five layers of incompressible data over busybox (bench)
  small      ~1 MB in one layer (bench)
  hostile-dotdot, hostile-abs-symlink, hostile-hardlink, hostile-whiteout,
  hostile-device
             busybox plus a layer trying to write outside the layer
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

BUSYBOX = os.environ.get("BUSYBOX", "/bin/busybox")
EPOCH = 1700000000
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def tar_bytes(entries):
    """entries: list of (TarInfo, data or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            info.mtime = info.mtime or EPOCH
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def d(name, mode=0o755):
    i = tarfile.TarInfo(name)
    i.type, i.mode = tarfile.DIRTYPE, mode
    return (i, None)


def f(name, data, mode=0o644, uid=0, gid=0):
    if isinstance(data, str):
        data = data.encode()
    i = tarfile.TarInfo(name)
    i.size, i.mode, i.uid, i.gid = len(data), mode, uid, gid
    return (i, data)


def sym(name, target):
    i = tarfile.TarInfo(name)
    i.type, i.linkname = tarfile.SYMTYPE, target
    return (i, None)


def hard(name, target):
    i = tarfile.TarInfo(name)
    i.type, i.linkname = tarfile.LNKTYPE, target
    return (i, None)


def chardev(name, major, minor):
    i = tarfile.TarInfo(name)
    i.type, i.devmajor, i.devminor, i.mode = tarfile.CHRTYPE, major, minor, 0o666
    return (i, None)


def busybox_layer():
    with open(BUSYBOX, "rb") as fh:
        bb = fh.read()
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    e = [d(x) for x in ("bin", "dev", "etc", "proc", "sys", "root", "run", "var")]
    e += [d("tmp", 0o1777), d("var/tmp", 0o1777)]
    e.append(f("bin/busybox", bb, 0o755))
    e += [sym("bin/" + a, "busybox") for a in sorted(applets) if a != "busybox"]
    e.append(f("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"))
    e.append(f("etc/group", "root:x:0:\nnogroup:x:65534:\n"))
    return tar_bytes(e)


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as fh:
            json.dump({"imageLayoutVersion": "1.0.0"}, fh)

    def blob(self, data, media_type):
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.path, "blobs", "sha256", h), "wb") as fh:
            fh.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + h, "size": len(data)}

    def image(self, layers, arch=ARCH, compression="gzip", cmd=("/bin/sh",), labels=None):
        """layers: uncompressed tars; compression: one name or one per layer."""
        comps = compression if isinstance(compression, (list, tuple)) else [compression] * len(layers)
        descs, diff_ids = [], []
        for tar, comp in zip(layers, comps):
            diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
            if comp == "gzip":
                descs.append(self.blob(gzip.compress(tar, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"))
            elif comp == "zstd":
                z = subprocess.run(["zstd", "-q", "-c"], input=tar, capture_output=True, check=True).stdout
                descs.append(self.blob(z, "application/vnd.oci.image.layer.v1.tar+zstd"))
            else:
                descs.append(self.blob(tar, "application/vnd.oci.image.layer.v1.tar"))
        config = {
            "created": "2023-11-14T22:13:20Z",
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/bin"], "Cmd": list(cmd), "Labels": labels or {}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "mkimages.py layer %d" % i}
                        for i in range(len(layers))],
        }
        cdesc = self.blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": cdesc, "layers": descs}
        return self.blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")

    def index(self, manifests):
        ix = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
        return self.blob(json.dumps(ix).encode(), "application/vnd.oci.image.index.v1+json")

    def finish(self, desc, tag="latest"):
        desc = dict(desc, annotations={"org.opencontainers.image.ref.name": tag})
        with open(os.path.join(self.path, "index.json"), "w") as fh:
            json.dump({"schemaVersion": 2, "manifests": [desc]}, fh)


def multi_layers():
    files = tar_bytes([d("etc"), f("etc/a", "a\n"), f("etc/b", "b\n"), d("data"), d("data/dir"),
                       f("data/dir/x", "x\n"), f("data/dir/y", "y\n"), f("data/keep", "keep\n"),
                       f("data/owned", "owned\n", 0o640, 1000, 1000), f("data/suid", "s\n", 0o4755)])
    whiteouts = tar_bytes([d("etc"), f("etc/.wh.a", ""), d("data"), d("data/dir"), f("data/dir/.wh..wh..opq", ""),
                           f("data/dir/z", "z\n")])
    return [busybox_layer(), files, whiteouts]


def random_layer(name, size):
    return tar_bytes([d("data"), f("data/" + name, os.urandom(size))])


def hostile(kind):
    if kind == "hostile-dotdot":
        return tar_bytes([f("../../../../tmp/berth-hostile-dotdot", "escaped\n")])
    if kind == "hostile-abs-symlink":
        return tar_bytes([sym("escape", "/tmp"), f("escape/berth-hostile-symlink", "escaped\n")])
    if kind == "hostile-hardlink":
        return tar_bytes([hard("passwd-link", "../../../../../etc/passwd")])
    if kind == "hostile-whiteout":
        return tar_bytes([d("etc"), f("etc/../../../../tmp/.wh.berth-hostile-canary", "")])
    if kind == "hostile-device":
        return tar_bytes([d("dev"), chardev("dev/berth-mem", 1, 1)])
    raise SystemExit("unknown kind " + kind)


def make(out, kind):
    lay = Layout(os.path.join(out, kind))
    if kind == "one":
        m = lay.image([busybox_layer()])
    elif kind == "multi":
        m = lay.image(multi_layers())
    elif kind == "zstd":
        m = lay.image(multi_layers(), compression=["zstd", "none", "gzip"])
    elif kind == "list":
        ms = []
        for arch in ("amd64", "arm64"):
            layer = tar_bytes([f("platform", "linux/%s\n" % arch)])
            desc = lay.image([busybox_layer(), layer], arch=arch)
            desc["platform"] = {"os": "linux", "architecture": arch}
            ms.append(desc)
        m = lay.index(ms)
    elif kind == "many":
        layers = [busybox_layer()] + [tar_bytes([d("many"), f("many/%d" % i, "%d\n" % i)]) for i in range(120)]
        m = lay.image(layers)
    elif kind == "big":
        m = lay.image([busybox_layer()] + [random_layer("r%d" % i, 20 << 20) for i in range(5)])
    elif kind == "small":
        m = lay.image([random_layer("r", 1 << 20)])
    elif kind.startswith("hostile-"):
        m = lay.image([busybox_layer(), hostile(kind)])
    else:
        raise SystemExit("unknown kind " + kind)
    lay.finish(m)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    for k in sys.argv[2:]:
        make(sys.argv[1], k)
