#!/usr/bin/env python
"""Offline docs build for sftnb: nbdev's notebook processing, then nbconvert instead of Quarto.

    python tools/build_docs.py            # write README.md (from nbs/index.ipynb) and the HTML site in _docs/
    python tools/build_docs.py --check    # fail if README.md is stale or any page fails to render

Where Quarto is installed, `nbdev_docs` builds the same site the usual nbdev way.
"""
import argparse, re, shutil, sys
from pathlib import Path
import nbformat, yaml
from nbconvert import HTMLExporter, MarkdownExporter
from nbdev.config import get_config
from nbdev.serve import proc_nbs

def _directives(src):
    return dict(re.findall(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$', src, flags=re.M))

def for_nbconvert(nb):
    "Turn a notebook processed by nbdev (Quarto flavoured) into one nbconvert renders the same way."
    cells = []
    for cell in nb.cells:
        if cell.cell_type == 'raw' and cell.source.startswith('---'):
            meta = yaml.safe_load(cell.source.strip().strip('-')) or {}
            head = f"# {meta.get('title', '')}"
            if meta.get('description'): head += f"\n\n> {meta['description']}"
            cells.append(nbformat.v4.new_markdown_cell(head)); continue
        if cell.cell_type == 'code':
            d = _directives(cell.source)
            cell.source = '\n'.join(l for l in cell.source.splitlines() if not l.startswith('#|')).strip()
            # warnings and progress bars go to stderr: they are not part of the docs
            cell.outputs = [o for o in cell.outputs if d.get('output') != 'false' and o.get('name') != 'stderr']
            if d.get('echo') == 'false':
                cell.source = ''
                cell.metadata.setdefault('transient', {})['remove_source'] = True
            if not cell.source and not cell.outputs: continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata['language_info'] = {'name': 'python'}
    return nb

def render(nb_path, exporter):
    nb = for_nbconvert(nbformat.read(nb_path, as_version=4))
    return exporter.from_notebook_node(nb)[0]

def readme_text(cache, cfg):
    md = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True)
    md.register_preprocessor('nbconvert.preprocessors.RegexRemovePreprocessor', enabled=False)
    text = render(cache/cfg.readme_nb, md)
    text = re.sub(r'\n{3,}', '\n\n', text).strip() + '\n'
    return text

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='fail if README.md is stale; render the site to a temporary folder')
    args = ap.parse_args()
    cfg = get_config()
    shutil.rmtree(cfg.config_path/'_proc', ignore_errors=True)  # nbdev reuses stale processed copies otherwise
    cache = proc_nbs(cfg.nbs_path, n_workers=0)
    readme = readme_text(cache, cfg)
    out = cfg.config_path/'README.md'
    site = cfg.doc_path
    if args.check:
        if not out.exists() or out.read_text() != readme:
            import difflib; sys.stdout.writelines(difflib.unified_diff(out.read_text().splitlines(True) if out.exists() else [], readme.splitlines(True), 'README.md', 'built'))
            sys.exit("README.md is stale: run `python tools/build_docs.py` and commit README.md")
        site = cache/'_site_check'
    else: out.write_text(readme)
    shutil.rmtree(site, ignore_errors=True); site.mkdir(parents=True)
    html = HTMLExporter()
    pages = sorted(cache.glob('*.ipynb'))
    for p in pages: (site/(re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.stem) + '.html')).write_text(render(p, html))  # as Quarto names them
    print(f"README.md {'up to date' if args.check else 'written'}; {len(pages)} pages rendered to {site}")

if __name__ == '__main__': main()
