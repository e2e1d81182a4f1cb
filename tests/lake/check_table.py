# SPDX-License-Identifier: MIT
# Read an Iceberg table directory as a reader would, with python3-avro:
# version-hint.text, the metadata it names, the current snapshot's
# manifest list, every manifest and every live data file (which must exist
# with the size the manifest gives). Prints "VERSION ROWS"; exits 1 with a
# message on anything missing or inconsistent.
import json
import os
import sys
import warnings

from avro.datafile import DataFileReader
from avro.io import DatumReader

warnings.simplefilter("ignore")


def local(uri):
    return uri[len("file://"):] if uri.startswith("file://") else uri


def records(path):
    with open(path, "rb") as f:
        return list(DataFileReader(f, DatumReader()))


def main(table):
    meta = os.path.join(table, "metadata")
    with open(os.path.join(meta, "version-hint.text")) as f:
        version = int(f.read().strip())
    with open(os.path.join(meta, "v%d.metadata.json" % version)) as f:
        m = json.load(f)
    cur = m.get("current-snapshot-id", -1)
    if cur in (None, -1):
        print(version, 0)
        return 0
    snap = [s for s in m["snapshots"] if s["snapshot-id"] == cur]
    if len(snap) != 1:
        sys.exit("current snapshot %d not in snapshots" % cur)
    rows = 0
    for mf in records(local(snap[0]["manifest-list"])):
        path = local(mf["manifest_path"])
        if os.path.getsize(path) != mf["manifest_length"]:
            sys.exit("manifest %s: wrong length" % path)
        for e in records(path):
            if e["status"] == 2:
                continue
            df = e["data_file"]
            p = local(df["file_path"])
            if os.path.getsize(p) != df["file_size_in_bytes"]:
                sys.exit("data file %s: wrong size" % p)
            rows += df["record_count"]
    if int(snap[0]["summary"]["total-records"]) != rows:
        sys.exit("summary total-records %s, manifests %d"
                 % (snap[0]["summary"]["total-records"], rows))
    print(version, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
