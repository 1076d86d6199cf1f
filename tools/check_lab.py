#!/usr/bin/env python
"""Run the tutorial in a real JupyterLab in headless Chromium: Stop it mid-run, resume, interrupt the kernel, resume, finish.

    python tools/check_lab.py [--shots .ci-cache/lab] [--chromium /usr/bin/chromium] [--timeout 900]

What a user does, step by step: `jupyter lab` starts on 127.0.0.1 with a token, over a copy of nbs/10_tutorial.ipynb in a
temporary folder (so neither autosave nor a checkpoint touches the repository); Playwright opens it in Debian's
Chromium and runs all cells. While the tutorial trains, the test watches the dashboard: its widget view must appear and
its loss curve (`polyline.sftnb-train_loss`, `data-n` points) must grow. Then it presses Stop: the run must end as
`stopped` with a complete checkpoint on disk, no KeyboardInterrupt traceback, and the kernel still alive (idle). It
runs the training cell and the cells below again: the run must resume from that checkpoint, and this time the kernel's
own interrupt (Kernel > Interrupt Kernel) must stop it the same way, at a later step. A third run resumes again and
finishes, and the cells below it must run without an error (the tutorial asserts its before/after table there). Fails
on a browser console error, a page error, a missing widget view, a plot that never updates, a cell error, or a
timeout. Screenshots go to --shots.
"""
import argparse, json, os, re, secrets, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                  '--disable-component-update', '--disable-default-apps', '--disable-extensions', '--no-first-run']
IGNORED_CONSOLE = (  # console errors that are not the widget's: Lab's optional services, absent offline
    'favicon', 'api/nbconvert', 'lab/api/news', 'lab/api/update', 'api/contents/.*checkpoints', 'net::ERR_')

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start_lab(folder:Path, port:int, token:str, log:Path)->subprocess.Popen:
    "Start `jupyter lab` on 127.0.0.1:`port` serving `folder`, and wait until it answers."
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}', f'--ServerApp.root_dir={folder}',
           f'--IdentityProvider.token={token}', '--ServerApp.open_browser=False', '--LabApp.news_url=None',
           '--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--ContentsManager.allow_hidden=True', '--ServerApp.allow_root=True', '--LabApp.extension_manager=readonly']
    env = {**os.environ, 'JUPYTER_RUNTIME_DIR': str(folder/'.runtime'), 'JUPYTER_CONFIG_DIR': str(folder/'.config')}  # nobody's own settings
    tracker = folder/'.config'/'lab'/'user-settings'/'@jupyterlab'/'notebook-extension'/'tracker.jupyterlab-settings'
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({'windowingMode': 'none'}))  # every cell in the page, on screen or not, so its text can be read
    proc = subprocess.Popen(cmd, stdout=log.open('w'), stderr=subprocess.STDOUT, cwd=folder, env=env, start_new_session=True)
    for _ in range(120):
        if proc.poll() is not None: sys.exit(f"check_lab: jupyter lab exited with {proc.returncode}; its log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=2): return proc
        except OSError: time.sleep(0.5)
    proc.terminate(); sys.exit(f"check_lab: jupyter lab did not answer on port {port}; its log:\n{log.read_text()[-3000:]}")

def kernels(port:int, token:str)->list:
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/kernels?token={token}', timeout=5) as r: return json.load(r)

class Check:
    "The browser session and what went wrong in it."
    def __init__(self, page, shots:Path):
        self.page, self.shots, self.problems = page, shots, []
        page.on('console', self._console)
        page.on('pageerror', lambda e: self.problems.append(f"page error: {e}"))

    def _console(self, msg):
        if msg.type == 'error' and not any(re.search(p, msg.text + ' ' + str(msg.location.get('url', ''))) for p in IGNORED_CONSOLE):
            self.problems.append(f"console error: {msg.text}")

    def shot(self, name:str, cell:int|None=None):
        "Save a screenshot as `name`.png, scrolled to the dashboard of cell number `cell` if given."
        from playwright.sync_api import Error
        for _ in range(5 if cell is not None else 0):  # the live dashboard may be redrawn between finding and scrolling to it
            board = self.page.locator('.jp-Notebook .jp-Cell').nth(cell).locator('.sftnb-stop, .sftnb-dashboard').first  # the button stays; the board's HTML is replaced at each redraw
            if not board.count(): break
            try: board.scroll_into_view_if_needed(timeout=5000); break
            except Error: self.page.wait_for_timeout(200)  # gone, or not yet there: a picture of the page as it is will do
        self.page.screenshot(path=str(self.shots/f'{name}.png'), full_page=False)

    def fail(self, why:str):
        self.shot('failure')
        sys.exit(f"check_lab: {why}" + ''.join(f"\n  {p}" for p in self.problems))

    def wait(self, what:str, probe, timeout:float, every:float=0.5):
        "Poll `probe()` until it returns something truthy; fail naming `what` after `timeout` seconds."
        end = time.time() + timeout
        while time.time() < end:
            if (got := probe()): return got
            self.page.wait_for_timeout(every * 1000)
        self.fail(f"timed out after {timeout:.0f}s waiting for {what}")

    def command(self, label:str, menu:str='Run'):
        "Run a JupyterLab command from its menu, as a user would: `menu` > `label`."
        self.page.click(f'.lm-MenuBar-itemLabel:text-is("{menu}")')
        self.page.click(f'.lm-Menu-itemLabel:text-is("{label}")')

    def curve_points(self)->int: # points of the newest dashboard's training-loss curve (0 if there is none)
        return self.page.evaluate("""() => { const ps = [...document.querySelectorAll('.sftnb-dashboard polyline.sftnb-train_loss')];
                                             return ps.length ? +ps[ps.length - 1].dataset.n : 0; }""")

    def status(self)->str: # the newest dashboard's status, or ''
        return self.page.evaluate("""() => { const s = [...document.querySelectorAll('.sftnb-dashboard .sftnb-status')];
                                             return s.length ? s[s.length - 1].dataset.status : ''; }""")

    def errors(self)->list: # texts of error outputs in the notebook
        return self.page.eval_on_selector_all('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] pre, .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]',
                                              'els => els.filter(e => /Error|Traceback/.test(e.innerText)).map(e => e.innerText.slice(0, 800))')

    def busy(self)->bool: # a cell is queued or running (`[*]`)
        return self.page.evaluate("() => [...document.querySelectorAll('.jp-InputArea-prompt')].some(p => p.innerText.includes('*'))")

def training_cell(notebook:Path)->int: # index (among all cells, as the page lists them) of the first cell that calls train(...)
    cells = json.loads(notebook.read_text())['cells']
    return next((i for i, c in enumerate(cells) if c['cell_type'] == 'code' and re.search(r'= *train\(', ''.join(c['source']))), -1)

def stopped(check:Check, kernels, by:str)->tuple: # (step, checkpoint) of a run that `by` just stopped
    "Wait for the newest dashboard to say `stopped`, then check the checkpoint the run saved, the output and the kernel."
    check.wait(f'the run to stop after {by}', lambda: check.status() == 'stopped', 300)
    check.wait('the notebook to stop running cells', lambda: not check.busy(), 120)
    text = check.page.inner_text('.jp-Notebook')
    m = re.search(r'interrupted at step (\d+); checkpoint saved.*? in (\S+?)[,\s]', text)
    if not m: check.fail(f"no 'interrupted at step N; checkpoint saved' line after {by}")
    step, out = int(m.group(1)), Path(m.group(2))
    ckpt = out/f'checkpoint-{step}'
    if not ((ckpt/'trainer_state.json').exists() and (ckpt/'optimizer.pt').exists()): check.fail(f"{by} left no complete checkpoint at {ckpt}")
    if 'KeyboardInterrupt' in text: check.fail(f"{by} left a KeyboardInterrupt traceback")
    if (states := [k['execution_state'] for k in kernels()]) != ['idle']: check.fail(f"the kernel is not alive and idle after {by}: {states}")
    return step, ckpt

def rerun(check:Check, idx:int, name:str):
    "Select the training cell (number `idx`) and run it and every cell below, as a user who reruns a stopped run does."
    check.page.keyboard.press('Escape')  # no menu or editor left open
    prompt = check.page.locator('.jp-Notebook .jp-Cell').nth(idx).locator('.jp-InputPrompt')
    prompt.scroll_into_view_if_needed(); prompt.click()  # select the cell (its prompt), without editing it
    check.command('Run Selected Cell and All Below')
    check.shot(name)
    check.wait('the training cell to run again', lambda: check.busy() or check.status() != 'stopped', 60, every=0.1)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shots', default=str(ROOT/'.ci-cache'/'lab'), help='folder for the screenshots')
    ap.add_argument('--chromium', default=shutil.which('chromium') or '/usr/bin/chromium')
    ap.add_argument('--timeout', type=float, default=900, help='seconds for the whole tutorial')
    ap.add_argument('--notebook', default=str(ROOT/'nbs'/'10_tutorial.ipynb'), help='another notebook that trains the same way (for developing this check)')
    args = ap.parse_args()
    shots = Path(args.shots); shots.mkdir(parents=True, exist_ok=True)
    work, token, port = Path(tempfile.mkdtemp(prefix='sftnb-lab-')), secrets.token_hex(16), free_port()
    shutil.copy(args.notebook, work/'10_tutorial.ipynb')
    lab = start_lab(work, port, token, shots/'jupyter-lab.log')
    start = time.time()
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            check = Check(page, shots)
            page.goto(f'http://127.0.0.1:{port}/lab/tree/10_tutorial.ipynb?token={token}')
            page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
            def kernel_idle():
                if (select := page.query_selector('.jp-Dialog button.jp-mod-accept')): select.click()  # "Select Kernel": the notebook's own
                return (ks := kernels(port, token)) and ks[0]['execution_state'] == 'idle'
            check.wait('the kernel to start', kernel_idle, 120)
            page.wait_for_timeout(5000)  # the page connects to the kernel after the server reports it idle
            if (no := page.query_selector('.jp-toast-button:text-is("No")')): no.click()  # the news question
            if (idx := training_cell(work/'10_tutorial.ipynb')) < 0: check.fail("no cell calls train(...)")
            check.command('Run All Cells')
            check.wait("the dashboard's widget view", lambda: page.query_selector('.sftnb-dashboard .sftnb-stop, .sftnb-stop'), 300)
            first = check.wait('a first point on the loss curve', check.curve_points, 300)
            check.wait('the loss curve to grow', lambda: check.curve_points() > first, 300)
            check.shot('1-training', idx)
            if check.status() != 'running': check.fail(f"the dashboard says {check.status()!r} while training")
            page.click('.sftnb-stop')
            step, ckpt = stopped(check, kernels=lambda: kernels(port, token), by='Stop')
            check.shot('2-stopped', idx)
            rerun(check, idx, '3-rerun')  # resumes; this time the kernel's interrupt button (Kernel > Interrupt Kernel) stops it
            check.wait('the resumed run to train', lambda: check.status() == 'running', 300)
            if f'resuming from {ckpt}' not in page.inner_text('.jp-Notebook'): check.fail(f"the rerun did not resume from {ckpt}")
            n = check.curve_points()
            check.wait('the resumed loss curve to grow', lambda: check.curve_points() > n or check.status() != 'running', 300)
            if check.status() != 'running': check.fail(f"the resumed run ended ({check.status()!r}) before the interrupt could be pressed")
            check.command('Interrupt Kernel', menu='Kernel')
            step2, ckpt2 = stopped(check, kernels=lambda: kernels(port, token), by='the kernel interrupt')
            if step2 <= step: check.fail(f"the interrupted run stopped at step {step2}, not after the resumed step {step}")
            check.shot('4-interrupted', idx)
            rerun(check, idx, '5-rerun')
            check.wait('the resumed run to finish', lambda: check.status() == 'finished', args.timeout)
            check.shot('6-resumed', idx)
            check.wait('the cells below the training to finish', lambda: not check.busy(), 300)
            if f'resuming from {ckpt2}' not in page.inner_text('.jp-Notebook'): check.fail(f"the rerun did not resume from {ckpt2}")
            if (errs := check.errors()): check.fail("a cell failed:\n" + '\n'.join(errs))
            check.shot('7-finished', idx)
            if check.problems: check.fail('problems in the browser')
            browser.close()
    finally:
        lab.terminate()
        try: lab.wait(20)
        except subprocess.TimeoutExpired: lab.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(f"check_lab: tutorial run in JupyterLab in {time.time() - start:.0f}s: dashboard live, Stop at step {step} left {ckpt.name}, "
          f"the kernel's interrupt at step {step2} left {ckpt2.name}, each rerun resumed, the last finished; screenshots in {shots}")

if __name__ == '__main__': main()
