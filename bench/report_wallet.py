"""The wallet-set section of docs/performance.md (issue 13): numbers, tables
and verdicts from bench/results/wallet.json (Google Benchmark JSON of the
`wallet_` benchmarks of bench/bench_wallet.cpp, written by bench/run.sh).
report.py merges values() into the template's values; the prose is the
"Wallet sets" section of bench/performance.md.in. Standard library only.
"""
import os
import re


def values(results_dir):
    """The template values of the wallet-set section."""
    from report import Results, fmt_ns, fmt_rate, fmt_x, ratio, table  # report.py's (it imports this module)

    r = Results(os.path.join(results_dir, "wallet.json"), missing_ok=True)
    v = {"have_wallet": bool(r.median)}
    match, block_cpu = {}, {}
    patterns = {"one": r"wallet_match/set/accounts:1", "many": r"wallet_match/set/accounts:\d\d+",
                "mutex_map": r"wallet_match/mutex_map"}
    for t in (1, 2):
        for k, p in patterns.items():
            match[(k, t)] = r.value(rf"{p}/real_time/threads:{t}", "items_per_second")
            block_cpu[(k, t)] = r.ns(rf"{p}/real_time/threads:{t}")
    many = r.find(r"wallet_match/set/accounts:(\d\d+)/real_time/threads:1")
    accounts = int(re.search(r"accounts:(\d+)", many["run_name"]).group(1)) if many else 0
    handout = {k: r.value(rf"wallet_handout/{k}/real_time/threads:8", "items_per_second")
               for k in ("set", "shared_mutex_map")}
    mem = r.find(r"wallet_memory/accounts:\d+/iterations:1(/repeats:1)?")

    # Targets. Matching rates are scripts per second: the 10k-account set's
    # cost relative to the one-account set's is rate(one) / rate(many).
    rows = []
    verdicts = {}

    def add(name, text, measured, ok, note=""):
        status = "n/a (not measured)" if ok is None else ("met" if ok else f"**missed** {note}".rstrip())
        rows.append((text, measured, status))
        verdicts[name] = ok is False

    # One thread: CPU time per block (the same work in both; on a shared
    # machine a preempted thread inflates real time, not CPU time). Two
    # threads: throughput over real time (the contention is the point).
    cost = ratio(block_cpu[("many", 1)], block_cpu[("one", 1)])
    add("match_scale", f"matching against {accounts:,} accounts ≤ 2× against 1 (1 thread, CPU per block)",
        "n/a" if cost is None else f"{cost:.2f}×", None if cost is None else cost <= 2.0,
        "" if cost is None else f"({cost / 2:.2f} of the allowance)")
    vs1 = ratio(block_cpu[("mutex_map", 1)], block_cpu[("many", 1)])
    add("match_1", "≥ 1.0× a mutex + unordered_map index, 1 thread (CPU per block)", fmt_x(vs1), None if vs1 is None else vs1 >= 1.0,
        "" if vs1 is None else f"(short by {(1 - vs1) * 100:.0f}%)")
    vs2 = ratio(match[("many", 2)], match[("mutex_map", 2)])
    add("match_2", "≥ 1.5× a mutex + unordered_map index, 2 threads", fmt_x(vs2), None if vs2 is None else vs2 >= 1.5,
        "" if vs2 is None else f"({vs2 / 1.5:.2f} of the target)")
    vh = ratio(handout["set"], handout["shared_mutex_map"])
    add("handout", "find + reserve on random wallets, 8 threads: ≥ 1.5× a shared_mutex + map registry", fmt_x(vh),
        None if vh is None else vh >= 1.5, "" if vh is None else f"({vh / 1.5:.2f} of the target)")
    m0 = mem.get("heap_bytes_per_account_derived_0") if mem else None
    m20 = mem.get("heap_bytes_per_account_derived_20") if mem else None
    add("mem0", "an account whose pools derived nothing ≤ 1 KiB", "n/a" if m0 is None else f"{m0:,.0f} B",
        None if m0 is None else m0 <= 1024, "" if m0 is None else f"(by {m0 - 1024:,.0f} B)")
    add("mem20", "an account with 20 addresses derived per chain ≤ 8 KiB (index entries included)",
        "n/a" if m20 is None else f"{m20:,.0f} B", None if m20 is None else m20 <= 8192,
        "" if m20 is None else f"(by {m20 - 8192:,.0f} B)")
    v["wallet_targets_table"] = table(["target", "measured", "status"], rows)
    v["wallet_missed_memory0"] = verdicts["mem0"]
    v["wallet_missed_other"] = any(verdicts[k] for k in ("match_scale", "match_1", "match_2", "mem20"))
    v["wallet_accounts"] = f"{accounts:,}"

    match_rows = [
        ["CPU per block, 1 thread", fmt_ns(block_cpu[("one", 1)]), fmt_ns(block_cpu[("many", 1)]),
         fmt_ns(block_cpu[("mutex_map", 1)]), fmt_x(vs1)],
        ["scripts/s, 1 thread (real time)", fmt_rate(match[("one", 1)]), fmt_rate(match[("many", 1)]),
         fmt_rate(match[("mutex_map", 1)]), fmt_x(ratio(match[("many", 1)], match[("mutex_map", 1)]))],
        ["scripts/s, 2 threads (real time)", fmt_rate(match[("one", 2)]), fmt_rate(match[("many", 2)]),
         fmt_rate(match[("mutex_map", 2)]), fmt_x(vs2)],
    ]
    v["wallet_match_table"] = table(
        ["", "set of 1 account", f"set of {accounts:,} accounts", "mutex + unordered_map",
         f"set of {accounts:,} / mutex map"], match_rows)
    find = {k: r.value(rf"wallet_find/{k}/real_time/threads:8", "items_per_second")
            for k in ("set", "shared_mutex_map")}
    v["wallet_handout_table"] = table(
        ["registry (8 threads)", "find + reserve + release per second", "find alone per second"],
        [["WalletSet::find (lock-free)", fmt_rate(handout["set"]), fmt_rate(find["set"])],
         ["std::shared_mutex + std::map", fmt_rate(handout["shared_mutex_map"]), fmt_rate(find["shared_mutex_map"])],
         ["ratio", fmt_x(vh), fmt_x(ratio(find["set"], find["shared_mutex_map"]))]])
    v["wallet_find_ratio"] = fmt_x(ratio(find["set"], find["shared_mutex_map"]))
    v["wallet_missed_handout"] = verdicts["handout"]
    block = many.get("matched") if many else None
    v["wallet_block_matched"] = "n/a" if block is None else f"{block:.0f}"

    if mem:
        def b(key):
            x = mem.get(key)
            return "n/a" if x is None else f"{x:,.0f} B"
        v["wallet_memory_table"] = table(
            ["per account", "bytes"],
            [["heap, as added (nothing derived)", b("heap_bytes_per_account_derived_0")],
             ["heap, after the first sync (20 derived per chain)", b("heap_bytes_per_account_derived_20")],
             ["RSS, as added", b("rss_bytes_per_account_derived_0")],
             ["RSS, after the first sync", b("rss_bytes_per_account_derived_20")],
             ["of which the script index (40 entries)", b("index_bytes_per_account_derived_20")],
             ["the account before it joins (KeySource, Account, 2 pools, binding)", b("account_bytes")],
             ["of which its KeySource", b("key_source_bytes")]])
        v["wallet_memory_accounts"] = f"{mem.get('accounts', 0):,.0f}"
        v["wallet_key_source_bytes"] = f"{mem.get('key_source_bytes', 0):,.0f}"
        v["wallet_account_bytes"] = f"{mem.get('account_bytes', 0):,.0f}"
        v["wallet_sizeof_pool_impl"] = f"{mem.get('sizeof_pool_impl', 0):.0f}"
        v["wallet_sizeof_binding"] = f"{mem.get('sizeof_binding', 0):.0f}"
        v["wallet_sizeof_node"] = f"{mem.get('sizeof_node', 0):.0f}"
        v["wallet_sizeof_hot"] = f"{mem.get('sizeof_hot', 0):.0f}"
        v["wallet_lookup_indices"] = f"{mem.get('pool_lookup_indices', 0):.0f}"
        v["wallet_mem0_over"] = f"{(m0 or 0) - 1024:,.0f}"
        own = (m0 or 0) - mem.get("account_bytes", 0)
        v["wallet_registration_bytes"] = f"{own:,.0f}"
    else:
        for k in ("wallet_memory_table", "wallet_memory_accounts", "wallet_key_source_bytes", "wallet_account_bytes",
                  "wallet_sizeof_pool_impl", "wallet_sizeof_binding", "wallet_sizeof_node", "wallet_sizeof_hot",
                  "wallet_lookup_indices", "wallet_mem0_over", "wallet_registration_bytes"):
            v[k] = "n/a"
    v["have_wallet_memory"] = bool(mem)
    return v
