"""The official Python SDK v2 uploader, measured like `oss-bench`: one JSON line with MiB/s,
CPU seconds of the upload (os.times) and peak RSS (ru_maxrss).

usage: python upload.py --endpoint URL --file PATH [--part-size BYTES] [--parallel N]
"""
import argparse
import json
import os
import resource
import time

import alibabacloud_oss_v2 as oss


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--part-size", type=int, default=8 << 20)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--bucket", default="bench")
    p.add_argument("--key", default="bench/python.bin")
    p.add_argument("--region", default="cn-hangzhou")
    a = p.parse_args()

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("ak", "sk")
    cfg.region = a.region
    cfg.endpoint = a.endpoint
    cfg.use_path_style = True
    cfg.disable_ssl = True
    client = oss.Client(cfg)
    uploader = client.uploader()
    size = os.path.getsize(a.file)

    t0 = os.times()
    start = time.perf_counter()
    uploader.upload_file(
        oss.PutObjectRequest(bucket=a.bucket, key=a.key),
        filepath=a.file,
        part_size=a.part_size,
        parallel_num=a.parallel,
    )
    seconds = time.perf_counter() - start
    t1 = os.times()
    cpu = (t1.user - t0.user) + (t1.system - t0.system)
    parts = -(-size // a.part_size)
    print(json.dumps({
        "bench": "python-sdk",
        "bytes": size,
        "requests": parts + 2,
        "seconds": round(seconds, 4),
        "mib_s": round(size / (1 << 20) / seconds, 4),
        "req_s": round((parts + 2) / seconds, 4),
        "p50_ms": None,
        "p99_ms": None,
        "cpu_s": round(cpu, 4),
        "cpu_s_per_gib": round(cpu / (size / (1 << 30)), 4),
        "cpu_s_per_10k": None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 4),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
