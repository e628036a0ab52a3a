"""Job names from commands: the program that does the work, found past the guards, wrappers and
interpreters cron lines are made of (`test -x X && X`, `cd / && run-parts /etc/cron.daily`, `nice -n10`,
`python3 manage.py`), else a variable it sets, a helper (echo) or a guard (true). A generic script takes
its folder (/var/www/cron.php is www-cron). The same file always gives the same names; a clash is told
apart by the command's own words, then by a number in line order."""

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
        "chmod", "chown", "logger", "mail", "sendmail", "curl", "wget", "perl", "sh", "pwd", "id", "whoami",
        "printenv", "hostname", "uname"}
WRAPPERS = {"nice", "ionice", "nohup", "timeout", "flock", "chronic", "env", "sudo", "setsid", "systemd-cat",
            "run-one", "cronic", "lockrun", "stdbuf", "taskset", "chrt", "caffeinate", "doas", "runuser"}
INTERPRETERS = {"sh", "bash", "dash", "zsh", "ksh", "python", "python2", "python3", "perl", "php", "ruby",
                "node", "nodejs", "lua", "tclsh", "Rscript", "pwsh"}
SHELLS = {"sh", "bash", "dash", "zsh", "ksh"}
CODE_FLAGS = {"php": {"-r"}, "perl": {"-e", "-E"}, "ruby": {"-e"}, "node": {"-e", "-p"}, "nodejs": {"-e", "-p"},
              "python": {"-c"}, "Rscript": {"-e"}, "pwsh": {"-c", "-Command"}}  # else -c and -e
VALUE_FLAGS = {"php": {"-c", "-d", "-z"}, "python": {"-W", "-X"}, "python3": {"-W", "-X"}, "perl": {"-I"}}
SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".pl", ".php", ".rb", ".js", ".lua", ".R", ".ps1")
FRAMEWORK_SCRIPTS = {"manage", "artisan", "console", "cli", "run", "main", "app", "index", "cron", "occ"}
STRONG, ASSIGNED, HELPER, GUARD = range(4)  # how well a name says what runs, best first
GENERIC = {"cron", "run", "main", "app", "index", "cli", "console", "start", "task", "job", "script", "occ"}
PLAIN_FOLDERS = {"", ".", "..", "bin", "sbin", "usr", "local", "scripts", "script", "libexec", "cron", "~"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = re.compile(r"\d*[<>]")
_EXPANSION = re.compile(r"\$\{[^}]*\}")
_WORD_SPLIT = re.compile(r"[\s/=]+")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NOT_TELLING = KEYWORDS | GUARDS | {"usr", "bin"}
_QUOTING = re.compile(r"['\"\\]")
_UNQUOTED_TOKEN = re.compile(r"[;&|(){}<>]+|[^;&|(){}<> \t\r\n]+")
SCANNED = 4096  # a name comes from the start of a command: a 1 MiB line is read no further than this


def base_name(command: str) -> str:
    """A readable name for one command (not yet unique)."""
    return _base(_split(command))


def _base(parts: list[list[str]]) -> str:
    found = _best_in(parts)
    return slug(found[0]) if found else "job"


def _split(command: str) -> list[list[str]]:
    """The command's simple commands, each a list of words (read once per command: shlex is slow)."""
    return list(_simple_commands(_tokens(command)))


def _best(command: str) -> tuple[str, int] | None:
    return _best_in(_split(command))


def _best_in(parts: list[list[str]]) -> tuple[str, int] | None:
    """The first program that does the work, else a variable it sets, a helper (echo, cat), or a guard
    (true, sleep), in that order: (name, rank)."""
    best: tuple[str, int] | None = None
    where: str | None = None  # the last `cd` target: where a bare `php cron.php` runs
    for words in parts:
        first = 0
        while first < len(words) and _ASSIGNMENT.match(words[first]):
            best = _better(best, (words[first].split("=", 1)[0], ASSIGNED))
            first += 1
        words = words[first:]
        if len(words) > 1 and words[0] == "cd":
            where = words[1]
        found = _program(words, where)
        if found is not None and found[1] == STRONG:
            return found
        best = _better(best, found)
    return best


def _better(best: tuple[str, int] | None, found: tuple[str, int] | None) -> tuple[str, int] | None:
    """The first of the best rank: a later name replaces an earlier one only if it ranks higher."""
    if found is None or not slug(found[0], fallback=""):
        return best
    return found if best is None or found[1] < best[1] else best


def words_of(command: str) -> list[str]:
    """Plain words of the command's arguments (not its redirections), to tell clashing names apart."""
    return _words_in(_split(command))


def _words_in(parts: list[list[str]]) -> list[str]:
    out = []
    for token in (token for words in parts for token in words):
        for word in _WORD_SPLIT.split(token):
            word = word.lstrip("-")
            if _PLAIN_WORD.fullmatch(word) and word not in _NOT_TELLING:
                out.append(word)
    return out


def slug(text: str, limit: int = 64, fallback: str = "job") -> str:
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._").lower()
    text = re.sub(r"-{2,}", "-", text)[:limit].rstrip("-._")
    return text if text and NAME_PATTERN.match(text) else fallback


def unique_names(commands: list[str]) -> list[str]:
    """One name per command, in order: the first of a clash keeps the plain name, later ones take the
    first word of their own that tells them apart, then a number.

    Linear in the number of commands: the words of the earlier commands of one name are gathered once, as
    each clash comes, and the numbers tried for a name go on from where the last clash stopped (every lower
    one was taken then, and still is)."""
    names: list[str] = []
    taken: set[str] = set()
    seen: dict[str, set[str]] = {}  # a clashing base: the words of its earlier commands gathered so far
    pending: dict[str, list[str | list[str]]] = {}  # a base's earlier commands (or their words) not gathered
    numbers: dict[str, int] = {}
    for command in commands:
        parts = _split(command)
        name = base = _base(parts)
        later: str | list[str] = command  # the first of a name is read again only if a clash comes
        if name in taken:
            words = seen.setdefault(base, set())
            for other in pending.pop(base, ()):
                words.update(words_of(other) if isinstance(other, str) else other)
            later = _words_in(parts)
            own = [w for w in later if w not in words and slug(w) != base]
            if own:
                name = _suffixed(base, "-".join(own[:2]))
            number = numbers.get(base, 2)
            while name in taken:
                name = _suffixed(base, str(number))
                number += 1
            numbers[base] = number
        pending.setdefault(base, []).append(later)
        names.append(name)
        taken.add(name)
    return names


def _suffixed(base: str, suffix: str) -> str:
    """base-suffix within 64 characters: the base gives way, so the suffix always tells them apart."""
    suffix = slug(suffix, 30)
    return slug(f"{base[:63 - len(suffix)]}-{suffix}")


def _tokens(command: str) -> list[str]:
    command = _EXPANSION.sub("VALUE", command[:SCANNED])  # ${x:-/a/b} is a value, not a program
    if not _QUOTING.search(command):  # shlex's very tokens, at C speed: runs of punctuation, runs of the rest
        return _UNQUOTED_TOKEN.findall(command)
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


def _program(words: list[str], where: str | None = None) -> tuple[str, int] | None:
    """The program a simple command runs, past wrappers and interpreters, and how well it names the job."""
    while words and words[0] == "!":
        words = words[1:]
    while words:
        head = os.path.basename(words[0])
        if words[0].startswith("-") or words[0] in ("VALUE", "$"):
            return None
        if words[0] in GUARDS or head in GUARDS:
            return head, GUARD  # true, sleep: a name only when nothing else runs
        if head in WRAPPERS:
            words = _past_options(words[1:], head)
            continue
        if head in INTERPRETERS or re.fullmatch(r"python3\.\d+", head):
            return _interpreted(head, words[1:], where)
        if head == "run-parts":
            targets = [w for w in words[1:] if not w.startswith("-")]
            return (os.path.basename(targets[-1].rstrip("/")) if targets else head), STRONG
        return _script_name(words[0], head, where), (HELPER if head in WEAK else STRONG)
    return None


def _interpreted(head: str, args: list[str], where: str | None) -> tuple[str, int] | None:
    """`python3 /opt/sync.py` is sync, `php artisan schedule:run` artisan-schedule-run; inline code
    (`sh -c 'X'` aside, which is X) names only the interpreter."""
    code_flags = CODE_FLAGS.get(re.sub(r"[\d.]+$", "", head), {"-c", "-e"})
    rest: list[str] = []
    while args:
        word = args.pop(0)
        if word in code_flags or (head in SHELLS and re.fullmatch(r"-[a-z]*c[a-z]*", word)):
            if head in SHELLS and args:
                return _best(args[0])  # sh -c 'the real command'
            return head, HELPER
        if word in VALUE_FLAGS.get(head, ()) and args:
            args.pop(0)
        elif not word.startswith("-"):
            rest = [word] + args
            break
    if not rest:
        return head, HELPER
    script = _strip_suffix(os.path.basename(rest[0]))
    if script in FRAMEWORK_SCRIPTS and len(rest) > 1 and re.fullmatch(r"[A-Za-z][\w:.-]*", rest[1]):
        return f"{script}-{rest[1]}", STRONG  # manage.py clearsessions, artisan schedule:run
    return _script_name(rest[0], script, where, head), STRONG


def _script_name(path: str, name: str, where: str | None, interpreter: str | None = None) -> str:
    """A script's name without its suffix; a generic one (cron.php, run.sh) with the folder it lives or
    runs in: /var/www/cron.php is www-cron."""
    name = _strip_suffix(name)
    if name not in GENERIC or (path == name and interpreter is None):
        return name
    for place in (os.path.dirname(path), where or ""):
        folders = [f for f in place.split("/") if f not in PLAIN_FOLDERS]
        if folders:
            return f"{folders[-1]}-{name}"
    return f"{interpreter}-{name}" if interpreter else name


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
