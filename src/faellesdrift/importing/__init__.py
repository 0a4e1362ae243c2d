"""Import what municipalities have (CSV/XLSX asset lists, NetBox/Nautobot REST exports) into
tenant files.

Upstream of the model: it writes tenant files (and a new tenant's pool in community.yaml)
and is imported by no adapter. ``run_import`` is the one entry; every row ends either in
the file or in the gap list, never nowhere.
"""

from faellesdrift.importing.gaps import ImportGap
from faellesdrift.importing.run import ImportResult, run_import

__all__ = ["ImportGap", "ImportResult", "run_import"]
