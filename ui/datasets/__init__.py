"""The Datasets page's sections, one module per tab or noun: `importing` (file, URL, Kaggle) and `database`,
`browse` (caption, preview, columns, delete), `profile`, `clean` (steps, versions, diff) and `export`.
The page script only lays them out."""

from __future__ import annotations

from ui.datasets.browse import columns_tab, delete_section, header, preview_tab
from ui.datasets.clean import clean_tab
from ui.datasets.export import export_tab
from ui.datasets.importing import import_section
from ui.datasets.profile import profile_tab, render_profile

__all__ = ["clean_tab", "columns_tab", "delete_section", "export_tab", "header", "import_section", "preview_tab",
           "profile_tab", "render_profile"]
