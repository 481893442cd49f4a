"""Rewrites Arrow IPC files as the scanner writes them: `feather.write_feather`, LZ4_FRAME body compression.

Usage: python3 lz4_recode.py IN_DIR OUT_DIR   (every *.arrow in IN_DIR, same names in OUT_DIR)
"""
import os
import sys

import pyarrow as pa
import pyarrow.feather as feather

src, dst = sys.argv[1:3]
names = sorted(n for n in os.listdir(src) if n.endswith(".arrow"))
for name in names:
    with pa.OSFile(os.path.join(src, name), "rb") as f:
        table = pa.ipc.open_file(f).read_all()
    feather.write_feather(table, os.path.join(dst, name), compression="lz4")
print(len(names))
