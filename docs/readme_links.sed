# Doxygen's input filter for README.md (docs/Doxyfile.in, FILTER_PATTERNS). The README
# links to the docs pages by file, [text](docs/benchmarks.md), which is what GitHub and any
# Markdown viewer follow. Doxygen 1.9.4 resolves such a link to the page's label; 1.9.8
# does not when the page has an explicit label, and warns. Every page docs/<name>.md has
# the label {#<name>}, so the link becomes [text](@ref <name>), which both resolve.
s#\]\(docs/([A-Za-z0-9_]+)\.md\)#](@ref \1)#g
# In the docs the README is one page among the others, beside the main page that already
# carries the course's title: it is titled by what it holds, so that the navigation tree
# does not show two entries of the same name.
1s/^# Attention weights, step by step$/# The README: setup, the student's and the instructor's guides/
