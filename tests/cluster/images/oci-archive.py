#!/usr/bin/env python3
"""Packs a root filesystem into a single-layer OCI image archive for `ctr images import`.

The layer is an uncompressed, reproducible tar (sorted names, numeric owners, fixed
mtimes), so the same rootfs always gives the same image digest.
"""
import argparse
import hashlib
import io
import json
import os
import platform
import subprocess
import tarfile
import tempfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def blob(data):
    return hashlib.sha256(data).hexdigest(), data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rootfs", required=True)
    parser.add_argument("--name", required=True, help="full image reference, with a tag")
    parser.add_argument("--entrypoint", required=True)
    parser.add_argument("--cmd", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--port", action="append", default=[])
    parser.add_argument("--user", help="the image's user, UID:GID (root when absent)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.out))) as tmp:
        layer = os.path.join(tmp, "layer.tar")
        subprocess.run(
            ["tar", "--numeric-owner", "--sort=name", "--mtime=@0", "--xattrs",
             "-C", args.rootfs, "-cf", layer, "."],
            check=True,
        )
        layer_digest = sha256_file(layer)
        layer_size = os.path.getsize(layer)

        config = {
            "architecture": ARCH,
            "os": "linux",
            "config": {
                "Entrypoint": [args.entrypoint],
                "Cmd": args.cmd,
                "Env": args.env,
                "ExposedPorts": {port: {} for port in args.port},
                **({"User": args.user} if args.user else {}),
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_digest]},
        }
        config_digest, config_bytes = blob(json.dumps(config, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + config_digest,
                "size": len(config_bytes),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": "sha256:" + layer_digest,
                "size": layer_size,
            }],
        }
        manifest_digest, manifest_bytes = blob(json.dumps(manifest, sort_keys=True).encode())
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + manifest_digest,
                "size": len(manifest_bytes),
                "platform": {"architecture": ARCH, "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": args.name,
                    "org.opencontainers.image.ref.name": args.name.rsplit(":", 1)[1],
                },
            }],
        }

        partial = args.out + ".partial"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            add_bytes(archive, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            add_bytes(archive, "index.json", json.dumps(index, sort_keys=True).encode())
            add_bytes(archive, "blobs/sha256/" + config_digest, config_bytes)
            add_bytes(archive, "blobs/sha256/" + manifest_digest, manifest_bytes)
            archive.add(layer, "blobs/sha256/" + layer_digest)
        os.replace(partial, args.out)


if __name__ == "__main__":
    main()
