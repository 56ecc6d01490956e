"""Efficacy endpoints (ORR, DCR, DoR, PFS, OS) and their plots.

``stats.py`` computes the endpoints and ``plots.py`` draws them (both pure: no Django);
``casefile.py`` reads the endpoints case format; ``api.py`` serves the engines as API tools.
"""
