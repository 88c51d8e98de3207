"""`python -m kaish_kernel.jupyter -f CONNECTION_FILE`: what kernel.json starts."""

from kaish_kernel.jupyter.kernel import launch

launch()
