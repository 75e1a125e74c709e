"""``python -m pydyfast.distributed.run -n N [--hostfile FILE] script.py [args]``: start N
processes of a training script under MPI (a thin wrapper over ``mpiexec``).

It finds ``mpiexec`` (the one beside this Python first, as ``pip install mpich`` puts it, then
PATH), sets OMP_NUM_THREADS to the cores per process unless already set (N processes each
running every core's worth of threads would oversubscribe the machine), and runs
``mpiexec -n N [-f HOSTFILE] python script.py args``. ``-m module`` runs a module instead.
``mpirun -n N python script.py`` directly works as well.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path


def find_mpiexec():
    for name in ("mpiexec", "mpirun"):
        beside = Path(sys.executable).with_name(name)
        if beside.exists():
            return str(beside)
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("pydyfast.distributed.run: no mpiexec found; install an MPI "
                     "(pip install mpi4py mpich)")


def command(args):
    """The mpiexec command line and the environment for ``args`` (parsed options)."""
    cmd = [find_mpiexec(), "-n", str(args.nproc)]
    if args.hostfile:
        cmd += ["-f" if _is_mpich(cmd[0]) else "--hostfile", args.hostfile]
    cmd += [sys.executable] + (["-m", args.module] if args.module else [args.script])
    cmd += args.args
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.nproc))
    return cmd, env


def _is_mpich(mpiexec):
    """Open MPI's launcher names its host file option --hostfile; MPICH's hydra takes -f."""
    return "mpich" in Path(mpiexec).resolve().as_posix().lower() or \
        Path(mpiexec).with_name("mpichversion").exists()


def split_argv(argv):
    """(launcher options, target and its arguments): the target starts at the first token
    that is not one of ours, or right after ``-m module``, so the script's own options are
    never parsed here."""
    takes_value = {"-n", "--nproc", "--hostfile"}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "-m":
            return argv[:i + 2], argv[i + 2:]
        if token in takes_value:
            i += 2
        elif token.startswith("-") and token != "-" and (
                token in ("-h", "--help", "--dry-run") or "=" in token):
            i += 1
        else:
            break
    return argv[:i], argv[i:]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pydyfast.distributed.run",
                                     usage="%(prog)s -n N [--hostfile FILE] [--dry-run] "
                                           "(script.py | -m module) [args ...]",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--nproc", type=int, required=True, help="number of processes")
    parser.add_argument("--hostfile", help="MPI host file (one host per line) for several "
                        "machines")
    parser.add_argument("-m", dest="module", help="run a module (as python -m) instead of a "
                        "script")
    parser.add_argument("--dry-run", action="store_true", help="print the command and exit")
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, target = split_argv(argv)
    args = parser.parse_args(ours)
    if args.nproc < 1:
        parser.error(f"-n must be at least 1, got {args.nproc}")
    if args.module:
        args.script, args.args = None, target
    elif target:
        args.script, args.args = target[0], target[1:]
    else:
        parser.error("give a script, or -m module")
    cmd, env = command(args)
    if args.dry_run:
        sys.stdout.write(" ".join(cmd) + "\n")
        return 0
    os.execve(cmd[0], cmd, env)  # mpiexec takes over: signals and the exit code are its own


if __name__ == "__main__":
    sys.exit(main())
