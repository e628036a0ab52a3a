"""Job names from commands: the program that does the work, found past the guards, wrappers and
interpreters cron lines are made of (`test -x X && X`, `cd / && run-parts /etc/cron.daily`, `nice -n10`,
`python3 manage.py`). The same file always gives the same names; a clash is told apart by the command's
own words, then by a number in line order."""

from __future__ import annotations

import os
import re
import shlex

from panda_tui.fields import NAME_PATTERN

OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", "{", "}", ";;", "|&", "`", "$("}
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac", "in",
            "exec", "time", "function", "select"}
GUARDS = {"test", "[", "[[", "]", "]]", "true", "false", ":", "export", "set", "unset", "sleep", "exit", "cd",
          "command", "which", "type", "hash", "local", "return", "wait", "umask", "ulimit", "source", ".",
          "trap", "read", "shift", "eval", "let", "declare", "readonly"}
WEAK = {"echo", "printf", "cat", "sed", "awk", "grep", "egrep", "head", "tail", "tee", "ts", "sort", "uniq", "cut",
        "tr", "wc", "xargs", "find", "rm", "mkdir", "touch", "date", "basename", "dirname", "mv", "cp", "ln",
        "chmod", "chown", "logger", "mail", "sendmail", "curl", "wget", "perl", "sh"}
WRAPPERS = {"nice", "ionice", "nohup", "timeout", "flock", "chronic", "env", "sudo", "setsid", "systemd-cat",
            "run-one", "cronic", "lockrun", "stdbuf", "taskset", "chrt", "caffeinate", "doas", "runuser"}
INTERPRETERS = {"sh", "bash", "dash", "zsh", "ksh", "python", "python2", "python3", "perl", "php", "ruby",
                "node", "nodejs", "lua", "tclsh", "Rscript", "pwsh"}
SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".pl", ".php", ".rb", ".js", ".lua", ".R", ".ps1")
FRAMEWORK_SCRIPTS = {"manage", "artisan", "console", "cli", "run", "main", "app", "index", "cron", "occ"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = re.compile(r"\d*[<>]")
_EXPANSION = re.compile(r"\$\{[^}]*\}")


def base_name(command: str) -> str:
    """A readable name for one command (not yet unique)."""
    tokens = _tokens(command)
    strong: str | None = None
    assigned: str | None = None
    weak: str | None = None
    for words in _simple_commands(tokens):
        while words and _ASSIGNMENT.match(words[0]):
            assigned = assigned or words[0].split("=", 1)[0]
            words = words[1:]
        program = _program(words)
        if program is None:
            continue
        if program in WEAK:
            weak = weak or program
            continue
        strong = program
        break
    return slug(strong or assigned or weak or "job")


def words_of(command: str) -> list[str]:
    """Plain words of the command's arguments, to tell clashing names apart."""
    out = []
    for token in _tokens(command):
        for word in re.split(r"[\s/=]+", token):
            word = word.lstrip("-")
            if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", word) and word not in KEYWORDS | GUARDS | {"usr", "bin"}:
                out.append(word)
    return out


def slug(text: str, limit: int = 64) -> str:
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._").lower()
    text = re.sub(r"-{2,}", "-", text)[:limit].rstrip("-._")
    return text if text and NAME_PATTERN.match(text) else "job"


def unique_names(commands: list[str]) -> list[str]:
    """One name per command, in order: the first of a clash keeps the plain name, later ones take the
    first word of their own that tells them apart, then a number."""
    names: list[str] = []
    taken: set[str] = set()
    bases = [base_name(c) for c in commands]
    for index, (command, base) in enumerate(zip(commands, bases)):
        name = base
        if name in taken:
            others = [c for c, b in zip(commands[:index], bases[:index]) if b == base]
            seen = {w for other in others for w in words_of(other)}
            own = [w for w in words_of(command) if w not in seen and slug(w) != base]
            if own:
                name = _suffixed(base, "-".join(own[:2]))
            number = 2
            while name in taken:
                name = _suffixed(base, str(number))
                number += 1
        names.append(name)
        taken.add(name)
    return names


def _suffixed(base: str, suffix: str) -> str:
    """base-suffix within 64 characters: the base gives way, so the suffix always tells them apart."""
    suffix = slug(suffix, 30)
    return slug(f"{base[:63 - len(suffix)]}-{suffix}")


def _tokens(command: str) -> list[str]:
    command = _EXPANSION.sub("VALUE", command)  # ${x:-/a/b} is a value, not a program
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|(){}<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: plain words will do for a name
        return command.split()


def _simple_commands(tokens: list[str]):
    words: list[str] = []
    skip_next = False
    for token in tokens:
        if skip_next:  # the target of a redirection
            skip_next = False
            continue
        if set(token) <= set("<>&") and ("<" in token or ">" in token):
            skip_next = True  # its file, or the fd of >&1
            if words and words[-1].isdigit():
                words.pop()  # the 2 of 2>&1
            continue
        if token in OPERATORS or set(token) <= set(";&|(){}") or token in KEYWORDS or token.startswith("$("):
            if words:
                yield words
            words = []
            continue
        if _REDIRECT.fullmatch(token):
            continue
        words.append(token)
    if words:
        yield words


def _program(words: list[str]) -> str | None:
    """The program a simple command runs, past wrappers and interpreters; None for guards."""
    while words and words[0] == "!":
        words = words[1:]
    while words:
        head = os.path.basename(words[0])
        if words[0] in GUARDS or head in GUARDS or words[0].startswith("-") or words[0] in ("VALUE", "$"):
            return None
        if head in WRAPPERS:
            words = _past_options(words[1:], head)
            continue
        if head in INTERPRETERS or re.fullmatch(r"python3\.\d+", head):
            rest = [w for w in words[1:] if not w.startswith("-")]
            if words[1:2] == ["-c"] and rest:
                return base_name(rest[0])  # sh -c 'the real command'
            if any(w in ("-c", "-e", "-r") for w in words[1:2]) or not rest:
                return None
            script = _strip_suffix(os.path.basename(rest[0]))
            if script in FRAMEWORK_SCRIPTS and len(rest) > 1 and re.fullmatch(r"[A-Za-z][\w:.-]*", rest[1]):
                return f"{script}-{rest[1]}"  # manage.py clearsessions, artisan schedule:run
            return script
        if head == "run-parts":
            targets = [w for w in words[1:] if not w.startswith("-")]
            return os.path.basename(targets[-1].rstrip("/")) if targets else head
        return _strip_suffix(head)
    return None


def _past_options(words: list[str], wrapper: str) -> list[str]:
    """Drop a wrapper's options (and their values, and a flock's lock file or a timeout's duration)."""
    takes_value = {"-n", "-c", "-u", "-g", "-t", "-s", "-k", "-w", "-E", "-o", "-e", "-i", "-p"}
    while words and (words[0].startswith("-") or _ASSIGNMENT.match(words[0])):
        option = words.pop(0)
        if option in takes_value and words and wrapper != "env":
            words.pop(0)
    if wrapper in ("flock", "timeout", "taskset", "chrt") and len(words) > 1:
        words = words[1:]
    return words


def _strip_suffix(name: str) -> str:
    for suffix in SCRIPT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name
