"""Scans over many maximum-likelihood fits of the COSI model, on Dask and resumable.

- :mod:`~bayesbg.cosi.scan.background`: background variants (time-node scheme x setting x
  tracer) ranked by AIC, :func:`scan_background` ([COSI-511] 3.3.4);
- :mod:`~bayesbg.cosi.scan.loo`: PSIS-LOO of the best variants' NUTS fits beside their
  AIC, :func:`background_loo`;
- :mod:`~bayesbg.cosi.scan.template`: the likelihood profile over the widths of a
  Gaussian sky template, :func:`scan_template` ([COSI-511] 4.3), and the fitted width,
  :func:`width_interval`;
- :mod:`~bayesbg.cosi.scan.points`: one scan point (a maximum-likelihood fit on a worker);
- :mod:`~bayesbg.cosi.scan.runner`: independent points through `dask.distributed`, each
  finished point kept as a file so that an interrupted scan resumes;
- :mod:`~bayesbg.cosi.scan.config`: the ``[scan_background]`` and ``[scan_template]``
  TOML tables; :mod:`~bayesbg.cosi.scan.figures`: their figures;
- :mod:`~bayesbg.cosi.scan.run`: ``bayesbg cosi scan-background|scan-template CONFIG``,
  configuration to run directory.
"""

from bayesbg.cosi.scan.background import (
    BackgroundScanResult,
    BackgroundVariant,
    background_variants,
    distinct_variants,
    scan_background,
)
from bayesbg.cosi.scan.config import BackgroundScanConfig, ScanConfig, TemplateScanConfig
from bayesbg.cosi.scan.figures import background_scan_figure, template_scan_figure
from bayesbg.cosi.scan.loo import background_loo
from bayesbg.cosi.scan.run import (
    points_dir,
    run_scan_background_config,
    run_scan_template_config,
)
from bayesbg.cosi.scan.runner import PointRun, fingerprint, run_points
from bayesbg.cosi.scan.template import (
    CONTOUR_LEVELS,
    TemplateScanResult,
    WidthInterval,
    scan_template,
    width_interval,
)

__all__ = [
    "CONTOUR_LEVELS",
    "BackgroundScanConfig",
    "BackgroundScanResult",
    "BackgroundVariant",
    "PointRun",
    "ScanConfig",
    "TemplateScanConfig",
    "TemplateScanResult",
    "WidthInterval",
    "background_loo",
    "background_scan_figure",
    "background_variants",
    "distinct_variants",
    "fingerprint",
    "points_dir",
    "run_points",
    "run_scan_background_config",
    "run_scan_template_config",
    "scan_background",
    "scan_template",
    "template_scan_figure",
    "width_interval",
]
