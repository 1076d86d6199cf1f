#!/usr/bin/env python
"""Offline docs build for sftnb: nbdev's notebook processing, then a static mkdocs-material site instead of Quarto.

    python tools/build_docs.py            # write README.md (from nbs/index.ipynb) and the site in _docs/
    python tools/build_docs.py --check    # fail if README.md is stale or the site does not build (to a temporary folder)

Each notebook becomes one page (index.ipynb the home page), in nbs/ order, with its stored outputs (tables, plots,
highlighted examples) and the API docs nbdev's `show_doc` writes from docstrings and docments. Links to the doc host
(settings.ini `doc_host` + `doc_baseurl`) become links inside the site. The look is in mkdocs.yml. Where Quarto is
installed, `nbdev_docs` builds nbdev's usual site instead.
"""
import argparse, re, shutil, sys, tempfile
from pathlib import Path
import nbformat, yaml
from nbconvert import MarkdownExporter
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

def to_markdown(nb_path, name=None):
    "Markdown of a processed notebook and its extracted images ({file name: bytes}), named after page `name`."
    md = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True)
    md.register_preprocessor('nbconvert.preprocessors.RegexRemovePreprocessor', enabled=False)
    res = {'unique_key': name, 'output_files_dir': f'{name}_files'} if name else {}
    text, res = md.from_notebook_node(for_nbconvert(nbformat.read(nb_path, as_version=4)), resources=res)
    return re.sub(r'\n{3,}', '\n\n', text).strip() + '\n', res.get('outputs', {})

def doc_url(cfg): return cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'

def readme_text(cache, cfg):
    "README.md: the index notebook, its links to site pages pointing at the doc host (as nbdev's own links do)."
    text = to_markdown(cache/cfg.readme_nb)[0]
    return re.sub(r'\]\((?!\w+:|#|/)([\w-]+\.html(?:#[^)]*)?)\)', lambda m: f']({doc_url(cfg)}{m[1]})', text)

def page_name(nb_path): return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb_path.stem)   # as nbdev/Quarto name them: 02_data -> data, 01a_sources -> sources

def slugify(value, separator):
    "Heading anchors as Quarto (pandoc) makes them, so nbdev's doc links (`collate.html#padcollator.__call__`) resolve."
    value = re.sub(r'<[^>]+>', '', value).strip().lower()
    return re.sub(r'\s+', separator, re.sub(r'[^\w\s.-]', '', value))

def site_links(md, url):
    "Links to the doc host's pages become links to this site's pages (which mkdocs checks); dead links to private names go."
    md = re.sub(r'\]\((?:%s)?([\w-]+)\.html(#[^)]*)?\)' % re.escape(url), lambda m: f"]({m[1]}.md{m[2] or ''})", md)
    return re.sub(r'\[(`_\w+`)\]\([\w-]+\.md#_[^)]*\)', r'\1', md)   # nbdev links private names but shows no docs for them

def write_pages(cache, cfg, docs_dir:Path)->list:
    "One Markdown page per processed notebook in `docs_dir`; returns mkdocs' `nav`."
    nav, url = [], doc_url(cfg)
    nbs = sorted(cache.glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.name))
    for p in nbs:
        name = page_name(p)
        text, images = to_markdown(p, name)
        text = ''.join(part if part.startswith('```') else site_links(part, url) for part in re.split(r'(^```.*?^```)', text, flags=re.M|re.S))
        (docs_dir/f'{name}.md').write_text(text)
        for fn, data in images.items(): (docs_dir/fn).parent.mkdir(parents=True, exist_ok=True); (docs_dir/fn).write_bytes(data)
        title = re.search(r'^# (.+)$', text, flags=re.M)
        nav.append({'Home' if name == 'index' else (title[1] if title else name): f'{name}.md'})
    (docs_dir/'extra.css').write_text(EXTRA_CSS)
    return nav

EXTRA_CSS = """/* nbdev's show_doc signature line and parameter tables */
.md-typeset blockquote { color: inherit; }
.md-typeset table:not([class]) { font-size: .7rem; }
.md-typeset pre > code { white-space: pre-wrap; }
"""

def build_site(cache, cfg, site:Path):
    "Build the mkdocs-material site from the processed notebooks in `cache` into `site`."
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    docs_dir = cache/'_mkdocs'
    shutil.rmtree(docs_dir, ignore_errors=True); docs_dir.mkdir(parents=True)
    nav = write_pages(cache, cfg, docs_dir)
    mk = load_config(str(cfg.config_path/'mkdocs.yml'), docs_dir=str(docs_dir), site_dir=str(site), nav=nav,
                     site_name=cfg.title, site_description=cfg.description, site_url=doc_url(cfg), repo_url=cfg.git_url)
    mk['mdx_configs'].setdefault('toc', {})['slugify'] = slugify
    mk.plugins.on_startup(command='build', dirty=False)
    try: build(mk)
    finally: mk.plugins.on_shutdown()
    return nav

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='fail if README.md is stale; build the site to a temporary folder')
    ap.add_argument('--site', help='build the site here (default: settings.ini doc_path, a temporary folder with --check)')
    args = ap.parse_args()
    cfg = get_config()
    shutil.rmtree(cfg.config_path/'_proc', ignore_errors=True)  # nbdev reuses stale processed copies otherwise
    cache = proc_nbs(cfg.nbs_path, n_workers=0)
    readme, out = readme_text(cache, cfg), cfg.config_path/'README.md'
    if args.check:
        if not out.exists() or out.read_text() != readme:
            import difflib; sys.stdout.writelines(difflib.unified_diff(out.read_text().splitlines(True) if out.exists() else [], readme.splitlines(True), 'README.md', 'built'))
            sys.exit("README.md is stale: run `python tools/build_docs.py` and commit README.md")
    else: out.write_text(readme)
    site = Path(args.site) if args.site else (Path(tempfile.mkdtemp())/'site' if args.check else cfg.doc_path)
    shutil.rmtree(site, ignore_errors=True)
    nav = build_site(cache, cfg, site)
    print(f"README.md {'up to date' if args.check else 'written'}; site of {len(nav)} pages built in {site}")

if __name__ == '__main__': main()
