"""Peak memory of a class's backbone passes, with and without releasing the heap's holes.

Thirty photos (the sizes ``many_users.py`` uploads, up to 1016 x 704) each go through the
pretrained backbone at output strides 16, 32 and 8, two at a time through
``serving.Work`` exactly as the app runs them, the results kept in its byte-bounded cache.
Each variant runs in a fresh process, so its peak (VmHWM) is its own:

- ``never``: glibc on its own;
- ``above 1 GiB``: the app's setting (``ui.RELEASE_ABOVE``): ``release_memory`` after a
  pass that leaves the process above 1 GiB resident;
- ``always``: after every pass.

    python benchmarks/bench_memory.py [--photos 30] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"never": None, "above 1 GiB": 1 << 30, "always": 0}


def one_run(photos: int, release_above: int | None) -> dict:
    """Run in this process; return wall time, peak and final resident memory."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from many_users import photo

    from pyramidviz.backbones import extract, load_backbone
    from pyramidviz.device import configure_threads
    from pyramidviz.images import load_image, to_array
    from pyramidviz.serving import ByteCache, Work

    configure_threads()
    models = {s: load_backbone(output_stride=s) for s in (16, 32, 8)}
    work = Work(cache=ByteCache(768 << 20), release_above=release_above)
    start = time.perf_counter()
    jobs = []
    for i in range(photos):
        array = to_array(load_image(photo(i)[0], min_side=32).image)
        for s, model in models.items():
            jobs.append(work.submit(("features", i, s),
                                    lambda m=model, a=array: extract(m, a, "stage7")))
    for job in jobs:
        job.future.result()
    seconds = time.perf_counter() - start
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text()
                  .splitlines() if line.startswith(("VmHWM", "VmRSS")))
    return {"seconds": seconds, "cached_mib": work.cache.size / 2**20,
            "releases": work.releases,
            **{k: int(v.split()[0]) / 1024 for k, v in status.items()}}


def main(photos: int, repeats: int) -> None:
    print("| release | passes | wall time | peak RSS (VmHWM) | RSS after | cached |")
    print("| --- | --- | --- | --- | --- | --- |")
    for _ in range(repeats):
        for name, above in VARIANTS.items():
            out = subprocess.run([sys.executable, __file__, "--child", json.dumps(above),
                                  "--photos", str(photos)], capture_output=True, text=True,
                                 check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"| {name} ({r['releases']} times) | {3 * photos} | {r['seconds']:.1f} s | "
                  f"{r['VmHWM']:.0f} MiB | {r['VmRSS']:.0f} MiB | {r['cached_mib']:.0f} MiB |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_run(args.photos, json.loads(args.child))))
    else:
        main(args.photos, args.repeats)
