"""The HRNet ablations (notebook 06; Henderson and Houser 2023, on Sun et al. 2019): HRNet as designed, without
BatchNorm, and without BatchNorm and activations, each from several seeds on the same data and budget.

``settings``    the network's size, the schedule, the seeds (``HRNetStudy``, ``EXPERIMENTS``);
``experiment``  training and scoring every (experiment, seed) run;
``tables``      T06.1, the Welch comparison and ``findings(...)``;
``figures``     F06.1.
"""
