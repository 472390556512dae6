"""The stacked hourglass (notebook 02; Newell et al. 2016, as reported by Bhansali): stack counts compared over
seeds on the same data and budget.

``settings``    the study's settings per profile (``HourglassStudy``);
``experiment``  training every (stacks, seed) run, scoring them, the dissected model of notebooks 03-05;
``tables``      T02.1-T02.3, the stack verdict and ``findings(...)``;
``figures``     F02.1-F02.3.
"""
