"""Builds mc's command/flag tree from its Go source at one git revision.

Reads every cmd/*.go (not tests) of `git show REV:cmd/...`, finds
`var X = cli.Command{...}`, `var X = []cli.Flag{...}`, `var X = cli.*Flag{...}`,
`var X = []cli.Command{...}`, and resolves Name/Aliases/Flags/Subcommands.
"""
import json, re, subprocess, sys

repo, rev = sys.argv[1], sys.argv[2]
files = subprocess.run(["git", "-C", repo, "ls-tree", "--name-only", rev, "cmd/"], capture_output=True, text=True, check=True).stdout.split()
src = ""
for f in files:
    if f.endswith(".go") and not f.endswith("_test.go"):
        src += subprocess.run(["git", "-C", repo, "show", f"{rev}:{f}"], capture_output=True, text=True, check=True).stdout + "\n"

# strip comments (line comments outside strings; good enough for this code base)
src = re.sub(r"(?m)^\s*//.*$", "", src)

def block(s, i):
    """s[i] == '{' : return index after matching brace, skipping strings."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == '"':
            j += 1
            while s[j] != '"':
                if s[j] == "\\":
                    j += 1
                j += 1
        elif c == "`":
            j = s.index("`", j + 1)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError("unbalanced")

defs = {}  # name -> (kind, body)
for m in re.finditer(r"(?m)^(?:var\s+|\t)(\w+)\s*=\s*(\[\]cli\.Flag|\[\]cli\.Command|cli\.Command|cli\.\w+Flag)\{", src):
    start = m.end() - 1
    end = block(src, start)
    defs[m.group(1)] = (m.group(2), src[start:end])

def top_fields(body):
    """Fields at depth 1 of a struct literal body '{...}': returns dict key -> raw text."""
    out = {}
    depth = 0
    i = 1
    key = None
    cur_start = None
    fields = []
    # split at commas of depth 1
    parts, buf, j = [], "", 1
    while j < len(body) - 1:
        c = body[j]
        if c == '"':
            k = j + 1
            while body[k] != '"':
                if body[k] == "\\":
                    k += 1
                k += 1
            buf += body[j:k + 1]; j = k + 1; continue
        if c == "`":
            k = body.index("`", j + 1); buf += body[j:k + 1]; j = k + 1; continue
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(buf); buf = ""
        else:
            buf += c
        j += 1
    parts.append(buf)
    for p in parts:
        p = p.strip()
        mm = re.match(r"(\w+)\s*:\s*(.*)$", p, re.S)
        if mm:
            out[mm.group(1)] = mm.group(2).strip()
    return out

def names_of_flag_literal(text):
    names = [n.strip() for m in re.finditer(r'Name:\s*"([^"]*)"', text) for n in m.group(1).split(",") if n.strip()]
    if re.search(r"Hidden:\s*true", text):
        HIDDEN.update(names)
    return names

HIDDEN = set()

def flag_names(expr, seen=()):
    names = []
    # inline literals
    for m in re.finditer(r"cli\.\w+Flag\{", expr):
        end = block(expr, m.end() - 1)
        names += names_of_flag_literal(expr[m.end() - 1:end])
    stripped = re.sub(r"cli\.\w+Flag\{[^{}]*\}", "", expr)
    for ident in re.findall(r"\b([A-Za-z_]\w*)\b", stripped):
        if ident in seen or ident not in defs:
            continue
        kind, body = defs[ident]
        if kind == "[]cli.Flag":
            names += flag_names(body, seen + (ident,))
        elif kind.startswith("cli.") and kind.endswith("Flag"):
            names += names_of_flag_literal(body)
    return names

def command(ident, seen=()):
    kind, body = defs[ident]
    f = top_fields(body)
    name = re.match(r'"(.*)"', f.get("Name", '""')).group(1)
    aliases = re.findall(r'"([^"]*)"', f.get("Aliases", ""))
    if "ShortName" in f:
        aliases.append(re.match(r'"(.*)"', f["ShortName"]).group(1))
    HIDDEN.clear()
    flags = sorted(set(flag_names(f.get("Flags", ""))))
    hidden_flags = sorted(HIDDEN)
    subs = {}
    sub_expr = f.get("Subcommands", "")
    idents = re.findall(r"\b(\w+)\b", sub_expr)
    for s in idents:
        if s in defs and defs[s][0] == "[]cli.Command":
            idents += re.findall(r"\b(\w+)\b", defs[s][1])
    for s in idents:
        if s in defs and defs[s][0] == "cli.Command" and s not in seen:
            c = command(s, seen + (ident,))
            subs[c["name"]] = c
    hidden = f.get("Hidden", "false") == "true"
    return {"name": name, "aliases": aliases, "flags": flags, "hidden_flags": hidden_flags, "hidden": hidden, "sub": subs}

app = defs["appCmds"][1]
tree = {"sub": {}}
for ident in re.findall(r"\b(\w+)\b", app):
    if ident in defs and defs[ident][0] == "cli.Command":
        c = command(ident)
        tree["sub"][c["name"]] = c
json.dump(tree, sys.stdout, indent=1, sort_keys=True)
