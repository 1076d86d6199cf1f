#!/usr/bin/env python
"""Execute nbs/10_tutorial.ipynb in a real Jupyter kernel (nbclient), as a JupyterLab user would, and check its outputs.

    python tools/run_tutorial.py [--save OUT.ipynb]

Fails if any cell errors, or if the training dashboard left no widget view, or no final state with a loss curve, in the
notebook's output (the widget's output carries its HTML for readers without a kernel).
"""
import argparse, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--save', help='write the executed notebook here')
    args = ap.parse_args()
    path = Path(__file__).resolve().parent.parent/'nbs'/'10_tutorial.ipynb'
    nb = nbformat.read(path, as_version=4)
    start = time.time()
    NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    widget = 'application/vnd.jupyter.widget-view+json'
    views = [o['data'] for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []) if widget in o.get('data', {})]
    dashboards = [d.get('text/html', '') for d in views if 'sftnb-dashboard' in d.get('text/html', '')]
    html = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []) if 'text/html' in o.get('data', {})]
    if args.save: nbformat.write(nb, args.save)
    if not dashboards: sys.exit("tutorial: the training dashboard left no widget view in the output")
    if not any("data-status='finished'" in h and 'sftnb-train_loss' in h for h in dashboards):
        sys.exit("tutorial: the dashboard's stored state is not a finished run with a loss curve")
    if not html: sys.exit("tutorial: show_example left no HTML output")
    print(f"tutorial: executed in a Jupyter kernel in {time.time()-start:.0f}s; {len(dashboards)} dashboard(s), {len(html)} HTML output(s)")

if __name__ == '__main__': main()
