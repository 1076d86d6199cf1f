#!/usr/bin/env python
"""Execute the notebooks in nbs/ the way `nbdev_test` does and store their outputs, clean and deterministic.

    python tools/execute_nbs.py                      # execute every notebook in nbs/ and store its outputs in place
    python tools/execute_nbs.py 10_tutorial 02_data  # only these notebooks (names, with or without .ipynb, or paths)
    python tools/execute_nbs.py --check              # CI: execute in memory, store nothing; fail if a cell errors
    python tools/execute_nbs.py --flags slow         # also run the cells flagged `slow` (as `nbdev_test --flags slow`)

Cells run in execnb's `CaptureShell` with nbs/ as the working directory, exactly as `nbdev_test` runs them: cells
flagged with a `tst_flags` flag (settings.ini) or `#| eval: false` are skipped and keep what they had. The stored
outputs are cleaned so that a rerun gives the same notebook: stderr streams (warnings, progress bars) are dropped,
ANSI colours stripped, absolute paths of the machine replaced by what a reader would recognise (`<tmp>`, `~`,
`~/.cache/sftnb`, `<venv>`, paths relative to nbs/), and outside the benchmark notebook timings (seconds, rates,
the Trainer's `*_runtime` and `*_per_second` metrics) replaced by `…`; then `nbdev_clean` runs, which keeps the outputs
(`clear_all = False`). Every run reports the outputs that printed a machine path (the notebook should print a relative
name), outputs that look like timings outside benchmark notebooks, and, with --check, cells whose outputs differ from
the stored ones (stale, or not deterministic).
"""
import argparse, difflib, json, os, re, sys, tempfile, time
from pathlib import Path
from fastcore.basics import AttrDict
from fastcore.xtras import strip_ansi
from fastcore.parallel import parallel
from fastcore.xtras import working_directory
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell, _out_nb
from nbdev.config import get_config
from nbdev.frontmatter import FrontmatterProc
from nbdev.process import NBProcessor, extract_directives

MACHINE_PATH = re.compile(r'/(work|tmp|root|home)/')   # what the before-stop hook rejects in stored outputs
TIMING = re.compile(r"\b\d+(\.\d+)?\s?(s|ms|sec|secs|seconds|it/s|s/it|tokens/s|s/step)\b|(_runtime|_per_second|\bseconds)'?\s?[=:]\s?'?\d", re.I)
TIMING_RULES = [  # outside benchmark notebooks a timing is replaced by `…`, so that a rerun stores the same output
    (re.compile(r"('\w*(?:_runtime|_per_second)'\s?:\s?)'?[\d.e+-]+'?"), r"\1'…'"),   # the Trainer's logged metrics
    (re.compile(r"\b\d+ h \d+ min\b|\b\d+ min \d+ s\b"), '…'),                           # durations
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?(\s?)(tokens/s|s/step|it/s|s/it|ms|s)\b"), r"…\1\2"), # rates and seconds
    (re.compile(r"(peak memory )\d+(?:\.\d+)?( [KMG]iB)"), r"\1…\2"),                          # a peak resident set size varies too
    (re.compile(r"(\bseconds=)\d+(?:\.\d+)?"), r"\1…"),                                          # a stats record's own timing
]

class DocShell(CaptureShell):
    "`CaptureShell` that applies display updates as Jupyter does: `display(x, display_id=True).update(y)` leaves one output, `y`."
    def run(self, code, stdout=True, stderr=True, timeout=None, verbose=False):
        res = self.run_cell(code, stdout=stdout, stderr=stderr, timeout=timeout, verbose=verbose)
        self.result, self.exc = res.result.result, res.exception
        shown, where = [], {}
        for o in res.display_objects:
            key = o.transient.get('display_id')
            if o.update and key in where: shown[where[key]] = o; continue
            if key: where[key] = len(shown)
            shown.append(o)
        res.display_objects = shown
        return _out_nb(res, self.display_formatter)

def path_rules(nbs_dir:Path)->list:
    "(compiled regex, replacement) pairs turning this machine's absolute paths into neutral names, most specific first."
    home, tmp = Path.home(), Path(tempfile.gettempdir())
    sftnb_home = Path(os.environ.get('SFTNB_HOME', home/'.cache'/'sftnb'))
    exact = [(sys.prefix, '<venv>'), (sys.base_prefix, '<python>'), (str(sftnb_home), '~/.cache/sftnb'),   # these may lie in the checkout (CI)
             (str(nbs_dir)+'/', ''), (str(nbs_dir), '.'), (str(nbs_dir.parent), '..')]
    rules = [(re.compile(re.escape(p) + r'(?![\w.-])' if not p.endswith('/') else re.escape(p)), r) for p, r in exact if len(p) > 1]
    rules.append((re.compile(r'(?:%s|/tmp|/var/tmp)/[^/\s\'"<>)\]]+' % re.escape(str(tmp))), '<tmp>'))  # a temporary folder
    if len(str(home)) > 1: rules.append((re.compile(re.escape(str(home)) + r'(?![\w.-])'), '~'))
    rules.append((re.compile(r'(?<![\w.>~])/(?:work|root|home)(?:/[^/\s\'"<>)\]]+)*'), '<path>'))   # anything left
    return rules

def scrub(text:str, rules)->str:
    for rx, rep in rules: text = rx.sub(rep, text)
    return text

def _text(v): return ''.join(v) if isinstance(v, list) else v

def clean_outputs(outputs, rules)->list:
    "Outputs as they should be stored: no stderr, no ANSI colours, no machine paths, no execution counts, streams merged."
    res = []
    for o in outputs:
        o = dict(o)
        if o['output_type'] == 'stream':
            if o['name'] == 'stderr': continue
            text = scrub(strip_ansi(_text(o['text'])), rules)
            if res and res[-1]['output_type'] == 'stream' and res[-1]['name'] == o['name']:
                res[-1]['text'] = _text(res[-1]['text']) + text; continue
            o['text'] = text
        elif o['output_type'] in ('display_data', 'execute_result'):
            o['data'] = {k: (scrub(_text(v), rules) if k.startswith('text/') else v) for k, v in o['data'].items()}
            o.pop('transient', None)
            if 'execution_count' in o: o['execution_count'] = None
        res.append(o)
    for o in res:   # multi-line strings as lists of lines, as Jupyter saves them
        if o['output_type'] == 'stream': o['text'] = o['text'].splitlines(True)
        if 'data' in o: o['data'] = {k: (v.splitlines(True) if isinstance(v, str) and k.startswith('text/') else v) for k, v in o['data'].items()}
    return res

def _skip(cell, flags)->bool:
    "True for the cells `nbdev_test` does not run."
    if cell.cell_type != 'code' or 'nbdev_export(' in cell.source: return True
    d = extract_directives(AttrDict(source=cell.source), remove=False)
    return d.get('eval:', [''])[0].lower() == 'false' or bool(flags & d.keys())

def _run_or_skip(cell, flags)->bool:
    "The `preproc` of `CaptureShell.run_all`: skip what `nbdev_test` skips, and empty what will run (a cell that now prints nothing keeps nothing)."
    if _skip(cell, flags): return True
    cell.outputs = []; return False

def _stored(outputs): return json.dumps(outputs, sort_keys=True)

def execute_nb(path:Path, flags:set, check:bool=False)->dict:
    "Execute `path` as `nbdev_test` would; store its cleaned outputs unless `check`. Returns a report."
    fm = getattr(NBProcessor(path, procs=FrontmatterProc, process=True).nb, 'frontmatter_', {})
    rep = dict(name=path.name, error=None, paths=[], timings=[], changed=[], seconds=0.)
    if str(fm.get('skip_exec', '')).lower() == 'true': return rep
    nb, old = read_nb(path), read_nb(path)
    rules, start = path_rules(path.parent.resolve()) + ([] if 'bench' in path.stem else TIMING_RULES), time.time()
    os.environ['IN_TEST'] = '1'   # as nbdev_test sets it
    sys.path.insert(0, str(get_config().config_path))
    shell = DocShell(path)
    try:
        with working_directory(path.parent): shell.run_all(nb, exc_stop=True, preproc=lambda c: _run_or_skip(c, flags))
    except Exception:
        if shell.exc is None: raise   # not a cell's error: this tool's
        rep['error'] = shell.prettytb(fname=path)
    rep['seconds'] = time.time() - start
    if rep['error']: return rep
    for cell, was in zip(nb.cells, old.cells):
        if cell.cell_type != 'code' or _skip(cell, flags): continue
        raw = json.dumps([o.get('text', o.get('data', {})) for o in cell.outputs if o.get('name') != 'stderr'])
        cell.outputs = clean_outputs(cell.get('outputs', []), rules)
        where = f"{path.name} cell {cell.idx_} ({cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ''})"
        if MACHINE_PATH.search(raw): rep['paths'].append(where)
        if 'bench' not in path.stem and any(TIMING.search(_text(o.get('text', o.get('data', {}).get('text/plain', '')))) for o in cell.outputs): rep['timings'].append(where)  # one the rules missed
        if _stored(cell.outputs) != _stored(clean_outputs(was.get('outputs', []), rules)): rep['changed'].append(where)
    if not check:
        write_nb(nb, path)
        from nbdev.clean import nbdev_clean
        nbdev_clean(fname=str(path))
    return rep

def notebooks(names, nbs_dir:Path)->list:
    if not names: return sorted(p for p in nbs_dir.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    res = []
    for n in names:
        p = Path(n) if Path(n).exists() else nbs_dir/(n if n.endswith('.ipynb') else n + '.ipynb')
        if not p.exists(): sys.exit(f"execute_nbs: no notebook {n!r} in {nbs_dir}")
        res.append(p.resolve())
    return res

def _report(reps, check):
    for r in reps:
        print(f"{r['name']}: {'FAILED' if r['error'] else 'ok'} in {r['seconds']:.0f}s")
        if r['error']: print(r['error'], file=sys.stderr)
    for key, msg in [('paths', 'printed a machine path (scrubbed in the stored output; better print a relative name)'),
                     ('timings', 'look like timings outside a benchmark notebook (they change on every run)'),
                     ('changed', 'differ from the stored outputs (stale, or not deterministic)' if check else 'changed')]:
        cells = [c for r in reps for c in r[key]]
        if cells: print(f"{len(cells)} cell(s) {msg}:\n  " + '\n  '.join(cells))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('names', nargs='*', help='notebooks to execute (default: every notebook in nbs/)')
    ap.add_argument('--check', action='store_true', help='store nothing; fail if a cell errors')
    ap.add_argument('--flags', default='', help='space separated flags to run that are normally skipped (e.g. "slow")')
    ap.add_argument('--n_workers', type=int, default=None, help='notebooks executed at once (default: number of CPUs)')
    args = ap.parse_args()
    cfg = get_config()
    flags = set(cfg.tst_flags.split()) - set(args.flags.split())
    files = notebooks(args.names, cfg.nbs_path)
    n = args.n_workers if args.n_workers is not None else (0 if len(files) == 1 else min(os.cpu_count() or 1, 8))
    start = time.time()
    with working_directory(cfg.nbs_path):
        # workers find `execute_nb` by module name: a notebook's IPython shell replaces `__main__` in them
        sys.path.insert(0, str(Path(__file__).parent)); from execute_nbs import execute_nb
        reps = parallel(execute_nb, files, flags=flags, check=args.check, n_workers=n, pause=0.01)
    _report(reps, args.check)
    failed = [r['name'] for r in reps if r['error']]
    print(f"{len(reps)} notebook(s) in {time.time()-start:.0f}s; outputs {'checked, nothing stored' if args.check else 'stored'}")
    print(f"execute_nbs: {len(reps)-len(failed)} passed, {len(failed)} failed")
    if failed: sys.exit(f"execute_nbs: cells failed in {', '.join(failed)}")

if __name__ == '__main__': main()
