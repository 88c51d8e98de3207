"""`python -m kaish_kernel` is the `kaish` command."""

from kaish_kernel.cli import main

raise SystemExit(main())
