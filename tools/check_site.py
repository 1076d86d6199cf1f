#!/usr/bin/env python
"""Check the documentation site as a reader would use it.

    python tools/check_site.py                   # build it (README check included), then check every link offline
    python tools/check_site.py --site _docs      # check a site already built
    python tools/check_site.py --browser         # also open it in headless Chromium; screenshots in _docs_shots/

Offline: every link and image of every page resolves (files and #anchors), every notebook's page is reachable from the
index through the sidebar, and the tutorial page shows its training dashboard's final state (loss curve in SVG). With --browser, Debian's Chromium
(`apt-get install -y chromium`, driven by `pip install playwright`) opens the site from a local HTTP server: the index,
every sidebar link (no 404, no failed asset), a search, and the tutorial with the dashboard drawn; screenshots are saved.
"""
import argparse, functools, http.server, re, subprocess, sys, tempfile, threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent

class Page(HTMLParser):
    "The ids, links, sidebar links and images of one HTML page."
    def __init__(self, text):
        super().__init__(); self.ids, self.links, self.nav, self.images, self._nav_depth = set(), [], [], [], 0
        self.feed(text)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        if tag == 'nav': self._nav_depth += 1 if self._nav_depth or 'md-nav--primary' in (a.get('class') or '') else 0
        if tag == 'a' and a.get('href'):
            self.links.append(a['href'])
            if self._nav_depth: self.nav.append(a['href'])
        if tag == 'img' and a.get('src'): self.images.append(a['src'])
    def handle_endtag(self, tag):
        if tag == 'nav' and self._nav_depth: self._nav_depth -= 1

def expected_pages()->set:
    "The page of every notebook in nbs/, named as tools/build_docs.py names them."
    return {re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.stem) + '.html' for p in (ROOT/'nbs').glob('*.ipynb')}  # as build_docs.page_name

def _local(href): return not urlparse(href).scheme and not href.startswith(('//', 'mailto:'))

def check_offline(site:Path)->list:
    "Problems found in the built site: broken links and anchors, unreachable notebook pages, a tutorial without its dashboard."
    pages = {p.relative_to(site).as_posix(): Page(p.read_text(errors='replace')) for p in site.rglob('*.html')}
    problems = []
    for name, page in pages.items():
        if name == '404.html': continue   # links from the site's root, wherever the 404 is served
        for href in page.links + page.images:
            if not _local(href): continue
            url, frag = urldefrag(urljoin(name, href))
            target = url or name
            if target.endswith('/') or (site/target).is_dir(): target = target.rstrip('/') + '/index.html'
            if not (site/target).exists(): problems.append(f"{name}: link to {href}: no such file"); continue
            if frag and target in pages and frag not in pages[target].ids: problems.append(f"{name}: link to {href}: no #{frag} on {target}")
    missing = expected_pages() - pages.keys()
    if missing: problems.append(f"no page for {sorted(missing)}")
    nav = {urldefrag(urljoin('index.html', h))[0] or 'index.html' for h in pages.get('index.html', Page('')).nav if _local(h)}
    unlisted = expected_pages() - nav - {'index.html'}
    if unlisted: problems.append(f"the index's sidebar does not list {sorted(unlisted)}")
    seen, todo = set(), ['index.html']   # every page reachable from the index by following links
    while todo:
        n = todo.pop()
        if n in seen or n not in pages: continue
        seen.add(n); todo += [urldefrag(urljoin(n, h))[0] for h in pages[n].links if _local(h)]
    unreachable = expected_pages() - seen
    if unreachable: problems.append(f"not reachable from index.html: {sorted(unreachable)}")
    tutorial = (site/'tutorial.html').read_text() if (site/'tutorial.html').exists() else ''
    if not re.search(r"class=.sftnb-dashboard.", tutorial) or 'sftnb-train_loss' not in tutorial:
        problems.append("tutorial.html shows no training dashboard with a loss curve: execute the notebook (tools/execute_nbs.py) and rebuild")
    return problems

def serve(site:Path):
    "A quiet local HTTP server for `site` in a thread; returns (server, base URL)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"

def check_browser(site:Path, shots:Path, chromium:str)->list:
    "Open the site in headless Chromium: sidebar links, failed requests, search, the tutorial's dashboard; save screenshots."
    from playwright.sync_api import sync_playwright
    shots.mkdir(parents=True, exist_ok=True)
    srv, base = serve(site)
    problems = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=['--no-sandbox'])
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            page.on('response', lambda r: r.status >= 400 and problems.append(f"{r.url}: HTTP {r.status}"))
            page.on('pageerror', lambda e: problems.append(f"{page.url}: script error {e}"))
            page.goto(base + 'index.html'); page.screenshot(path=str(shots/'index.png'))
            links = page.eval_on_selector_all('nav.md-nav--primary a.md-nav__link[href]', 'els => [...new Set(els.map(e => e.href.split("#")[0]))]')
            for url in links:
                r = page.goto(url)
                if r is None or r.status != 200: problems.append(f"sidebar link {url}: {r and r.status}")
                elif not page.title(): problems.append(f"sidebar link {url}: a page without a title")
            opened = {u.rsplit('/', 1)[-1] for u in links}
            if expected_pages() - opened - {'index.html'}: problems.append(f"sidebar misses {sorted(expected_pages() - opened)}")
            page.goto(base + 'index.html')
            page.locator('input.md-search__input').press_sequentially('tokenize_file', delay=30)
            try: page.wait_for_selector('.md-search-result__item', timeout=15000)
            except Exception: problems.append("search for 'tokenize_file' found nothing")
            page.screenshot(path=str(shots/'search.png'))
            page.goto(base + 'tutorial.html'); page.wait_for_load_state('networkidle')
            drawn = page.eval_on_selector_all('article .sftnb-dashboard polyline.sftnb-train_loss', 'els => els.filter(e => e.getBoundingClientRect().width > 0).length')
            if not drawn: problems.append("tutorial.html: the training dashboard's loss curve is not drawn")
            else:
                board = page.query_selector_all('article .sftnb-dashboard')[-1]
                board.scroll_into_view_if_needed(); board.screenshot(path=str(shots/'tutorial-dashboard.png'))
            page.screenshot(path=str(shots/'tutorial.png'))
            browser.close()
    finally: srv.shutdown()
    print(f"browser: {len(links)} sidebar links opened, {drawn} dashboard loss curve(s) on the tutorial; screenshots in {shots}")
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--site', help='a site already built (default: build one to a temporary folder, README check included)')
    ap.add_argument('--browser', action='store_true', help='also open the site in headless Chromium and save screenshots')
    ap.add_argument('--shots', default=str(ROOT/'_docs_shots'), help='where --browser saves screenshots')
    ap.add_argument('--chromium', default='/usr/bin/chromium', help="Chromium's executable (Debian's package: chromium)")
    args = ap.parse_args()
    site = Path(args.site) if args.site else Path(tempfile.mkdtemp())/'site'
    if not args.site: subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--check', '--site', str(site)], check=True)
    problems = check_offline(site)
    n = len(list(site.rglob('*.html')))
    print(f"site: {n} pages, {len(problems)} problem(s) offline")
    if args.browser:
        if not Path(args.chromium).exists(): sys.exit(f"no Chromium at {args.chromium}: apt-get install -y chromium")
        problems += check_browser(site, Path(args.shots), args.chromium)
    for p in problems: print('  ' + p)
    if problems: sys.exit(f"check_site: {len(problems)} problem(s)")
    print("check_site: the site is complete")

if __name__ == '__main__': main()
