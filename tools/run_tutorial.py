#!/usr/bin/env python
"""Execute nbs/10_tutorial.ipynb in a real Jupyter kernel (nbclient), as a JupyterLab user would, and check its outputs.

    python tools/run_tutorial.py [--save OUT.ipynb]

Fails if any cell errors or if the live loss plot left no image in the notebook's output.
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
    images = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
    html = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', []) if 'text/html' in o.get('data', {})]
    if args.save: nbformat.write(nb, args.save)
    if not images: sys.exit("tutorial: the live loss plot left no image/png output")
    if not html: sys.exit("tutorial: show_example left no HTML output")
    print(f"tutorial: executed in a Jupyter kernel in {time.time()-start:.0f}s; {len(images)} plot image(s), {len(html)} HTML output(s)")

if __name__ == '__main__': main()
