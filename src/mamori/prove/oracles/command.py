"""OS command injection (CWE-78/77): the canary becomes a separate command word.

The harness refuses to spawn any process carrying the canary, after recording its argv. For a
shell command line (``sh -c``, ``os.system``) the line is split the way a POSIX shell splits
words and operators (``shlex`` with punctuation characters): proven when a word equal to the
canary command follows a command separator (``;``, ``&&``, ``|``…) or starts the line. For an
argument vector without a shell, proven only when the canary chose the program itself.
"""

from __future__ import annotations

import shlex

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at

_SEPARATORS = {";", "&&", "||", "|", "&", "\n", ";;", "(", ")", "`"}
_SHELLS = ("sh", "bash", "dash", "zsh", "ksh", "cmd.exe", "cmd", "powershell")


def payloads(c: Canary) -> list[str]:
    k = c.token
    # ``x;k;`` for a command line that goes on right after the input (``-resize {x}%``)
    # ``x|k`` for code that removes ``;`` and ``&``
    return [f"x;{k}", f"x;{k};", f"x|{k}", f"x';{k};'", f'x";{k};"', k]


def shell_words(line: str) -> list[str]:
    """A shell command line as words and operators; ``[]`` when it does not parse."""
    lexer = shlex.shlex(line.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return []


def runs_as_command(line: str, word: str) -> bool:
    """True when ``word`` is a command of the shell ``line`` (first word, or after an operator)."""
    words = shell_words(line)
    return any(w == word and (i == 0 or words[i - 1] in _SEPARATORS) for i, w in enumerate(words))


def _shell_line(argv: list[str]) -> str | None:
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in _SHELLS and argv[1] in ("-c", "/c", "-Command"):
        return argv[2]
    return None


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    seen = events(obs, "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn")
    for e in seen:
        argv = [str(a) for a in e.get("argv") or []]
        line = _shell_line(argv)
        if line is not None:
            if runs_as_command(line, c.token):
                return verdict_at(e, True, f"the input ran as a separate shell command: {line[:200]}", line)
            continue
        program = str(e.get("executable") or (argv[0] if argv else ""))
        if program.rsplit("/", 1)[-1] == c.token or (argv and argv[0] == c.token):
            return verdict_at(e, True, f"the input chose the program run: {argv[:4]}", " ".join(argv))
    if seen:
        argv = [str(a) for a in seen[0].get("argv") or []]
        return verdict_at(
            seen[0],
            False,
            f"the canary reached a process's arguments but only as data: {argv[:4]}",
            " ".join(argv),
        )
    return None


FAMILY = Family("command", ("PY-CMDI",), ("CWE-78", "CWE-77", "CWE-88"), payloads, judge)
