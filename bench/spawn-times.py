# bench/spawn-times.py: wall and CPU (user+sys, from wait4's rusage) of commands run one after
# another, each round in the order given; prints one JSON line {label: {"wall": [...], "cpu": [...]}}.
# CPU time barely moves with the load of a shared host; wall time does. Used by bench/startup.ts.
# usage: python3 bench/spawn-times.py ROUNDS < commands.json   ([[label, [argv...]], ...])
import json, os, sys, time

rounds = int(sys.argv[1])
cmds = json.load(sys.stdin)
out = {label: {"wall": [], "cpu": []} for label, _ in cmds}
null = os.open(os.devnull, os.O_WRONLY)
for _ in range(rounds):
    for label, argv in cmds:
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execvp(argv[0], argv)
        _, status, ru = os.wait4(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(argv)} failed ({os.waitstatus_to_exitcode(status)})")
        out[label]["wall"].append((time.perf_counter() - t) * 1000)
        out[label]["cpu"].append((ru.ru_utime + ru.ru_stime) * 1000)
print(json.dumps(out))
