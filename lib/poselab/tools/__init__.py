"""Tools no notebook imports: speed measurements (``bench``), the check of every notebook's full-size code path on a
CPU (``check_full``: ``make check-full``) and the GPU session (``gpu_check``: ``make gpu-check``)."""
