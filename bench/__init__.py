"""The benchmark harness of `forensics`: stage times, peak RSS and the ratio to one scan.

Run it as `python -m bench --sizes 100000,1000000` (see `python -m bench --help`).
"""
