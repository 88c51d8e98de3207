"""The kaish Jupyter kernel: kaish cells in JupyterLab and notebooks.

    kernel.py      KaishKernel (ipykernel wrapper kernel): execute, interrupt, shutdown
    output.py      coalescing iopub stream writer, output cap, job output to its cell
    display.py     a typed value -> mimebundle (JSON, text, HTML table), error content
    completion.py  complete / inspect answers from the Shell's tables and tool schemas
    lexer.py       the Pygments lexer (`pygments_lexer: kaish`)
    install.py     `kaish install`: the kernelspec

Only `Shell` is used to run code; nothing here imports the interpreter.
Importing this package is cheap: ipykernel loads only with `kernel`.
"""
