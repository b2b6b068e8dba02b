# Doxygen's input filter for README.md (docs/Doxyfile.in, FILTER_PATTERNS). The README
# links to the docs pages by file, [text](docs/benchmarks.md), which is what GitHub and any
# Markdown viewer follow. Doxygen 1.9.4 resolves such a link to the page's label; 1.9.8
# does not when the page has an explicit label, and warns. Every page docs/<name>.md has
# the label {#<name>}, so the link becomes [text](@ref <name>), which both resolve.
s#\]\(docs/([A-Za-z0-9_]+)\.md\)#](@ref \1)#g
