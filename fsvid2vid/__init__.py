"""fsvid2vid: few-shot video-to-video synthesis (Wang et al., NeurIPS 2019) in plain PyTorch."""

__version__ = "0.1.0"
