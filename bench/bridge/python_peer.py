"""The Python bridge scan-bridge replaces, as its old design did it: the peer in the latency measure.

watchdog's inotify observer on ARROW_DIR (recursive), pyarrow reads each scan file renamed into
place (or created in place), the first row as a dict (`to_pylist()[0]`), `json.dumps`, and one
blocking `map.set` on the latest key through hazelcast-python-client. No compare-and-set, no
history, no completeness check beyond pyarrow's own errors, no sleeps, no polling.

Usage: python3 python_peer.py ARROW_DIR HOST:PORT CLUSTER MAP KEY
Prints "ready" on stdout once the observer runs and the client is connected, one line
"error <scan path> <reason>" per file it could not push, and exits when stdin closes.
"""
import json
import os
import re
import sys

import hazelcast
import pyarrow as pa
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

SCAN_NAME = re.compile(r"^scan_\d+_\d{6}\.arrow$")


class Push(FileSystemEventHandler):
    def __init__(self, latest):
        self.latest = latest

    def on_created(self, event):
        self.push(event.src_path, event.is_directory)

    def on_moved(self, event):
        self.push(event.dest_path, event.is_directory)

    def push(self, path, is_dir):
        if is_dir or not SCAN_NAME.match(os.path.basename(path)):
            return
        try:
            with pa.OSFile(path, "rb") as f:
                table = pa.ipc.open_file(f).read_all()
            row = table.to_pylist()[0]
            self.latest.set(KEY, json.dumps(row, default=str))
        except Exception as err:  # a bad file must not stop the peer
            print(f"error {path} {err!r}", flush=True)


if __name__ == "__main__":
    arrow_dir, member, cluster, map_name, KEY = sys.argv[1:6]
    client = hazelcast.HazelcastClient(cluster_members=[member], cluster_name=cluster)
    latest = client.get_map(map_name).blocking()
    observer = Observer()
    observer.schedule(Push(latest), arrow_dir, recursive=True)
    observer.start()
    print("ready", flush=True)
    sys.stdin.read()
    observer.stop()
    observer.join()
    client.shutdown()
