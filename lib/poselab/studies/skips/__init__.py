"""The skip-connection ablation (notebook 03): notebook 02's main hourglass evaluated on its training images with its
skip branches switched off at inference, all at once and one scale at a time ("Understanding the Model", §1.2).

``settings``    how many training samples, which scales;
``experiment``  the ablation itself;
``tables``      T03.1 (per joint), its joint-group summary and ``findings(...)``;
``figures``     F03.1-F03.3.
"""
