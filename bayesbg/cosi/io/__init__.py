"""Readers of real COSI files (docs/cosi_io.md).

- :mod:`bayesbg.cosi.io.orientation`: MEGAlib ``.ori`` orientation files
  (:func:`read_ori`, :class:`Orientation`).
- :mod:`bayesbg.cosi.io.megalib`: MEGAlib ``.tra``/``.tra.gz`` event lists, streamed
  (:func:`iter_tra`, :func:`read_tra`).
- :mod:`bayesbg.cosi.io.binning`: events into a :class:`~bayesbg.cosi.CosiDataset`
  (:func:`bin_events`, :class:`BinningConfig`); :mod:`bayesbg.cosi.io.grids`: FISBEL /
  HEALPix direction grids.
- :mod:`bayesbg.cosi.io.classic`: classic COSIpy ``.npz`` background response, tracer and
  RMF files.
- :mod:`bayesbg.cosi.io.histpy_files`: cosipy HDF5 files, binned data and background
  (:func:`read_histogram`) and detector responses (:func:`read_detector_response`).
"""

from bayesbg.cosi.io.binning import (
    BinnedEvents,
    BinningConfig,
    bin_events,
    cone_backprojection,
    write_binned,
)
from bayesbg.cosi.io.classic import (
    read_classic_background,
    read_classic_rmf,
    read_classic_tracer,
)
from bayesbg.cosi.io.grids import fisbel_grid, psi_chi_layout
from bayesbg.cosi.io.histpy_files import (
    DetectorResponse,
    HistAxis,
    Histogram,
    read_detector_response,
    read_histogram,
)
from bayesbg.cosi.io.megalib import ComptonEvents, PhotoEvents, iter_tra, read_tra
from bayesbg.cosi.io.orientation import Orientation, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.io.selection import PAPER_SELECTION, EventSelection, select_events

__all__ = [
    "PAPER_SELECTION",
    "EventSelection",
    "sample_data_dir",
    "select_events",
    "BinnedEvents",
    "BinningConfig",
    "ComptonEvents",
    "DetectorResponse",
    "HistAxis",
    "Histogram",
    "Orientation",
    "PhotoEvents",
    "bin_events",
    "cone_backprojection",
    "fisbel_grid",
    "iter_tra",
    "psi_chi_layout",
    "read_classic_background",
    "read_classic_rmf",
    "read_classic_tracer",
    "read_detector_response",
    "read_histogram",
    "read_ori",
    "read_tra",
    "write_binned",
]
