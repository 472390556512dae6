"""The report's machinery, apart from the science it runs: the runner (``run``: ``python -m poselab.report.run``) and
the order of the notebooks (``plan``), what every notebook does first (``notebook``: the ``Context`` it saves through),
the artifact registry and the HTML report (``registry``, ``html``), the checks of what a notebook left (``outputs``),
the expected wall times (``eta``), the machine record (``machine``), the notebooks' kernel (``kernel``) and the digest
of the sources a notebook reaches (``code_digest``).  Nothing in the science (data, models, training, evaluation,
studies) imports it."""
