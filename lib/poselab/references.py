"""The works this report reproduces or quotes, cited by author and year (``cite("he2023", "suppl. Table C")`` ->
"He et al. 2023, suppl. Table C").  The README and the HTML index list them in full (``markdown_list``); the ledger's
source column, the notebooks and the captions cite them by ``short``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    short: str  # how the report cites it: "He et al. 2023"
    authors: str
    title: str
    kind: str  # venue, or what kind of document it is
    year: str  # "2023", or "n.d." where the document gives none
    link: str = ""  # where it is public
    role: str = ""  # what the report takes from it

    def markdown(self) -> str:
        title = f"[{self.title}]({self.link})" if self.link else self.title
        role = f" *{self.role}*" if self.role else ""
        return f"**{self.short}**: {sentence(self.authors)} {sentence(title)} {sentence(self.published)}{role}"

    @property
    def published(self) -> str:
        """Where and when: "CVPR, 2023"."""
        return f"{self.kind}, {self.year}"


def sentence(text: str) -> str:
    """``text`` ending in one full stop."""
    return text if text.endswith(".") else text + "."


# The five source documents (the studies this report reproduces), then the public works it quotes.
SOURCES = ("understanding", "bhansali", "he2023", "henderson2023", "budaraju2020")

REFERENCES: dict[str, Reference] = {
    "understanding": Reference(
        "“Understanding the Model” (n.d.)", "Authors not given in the available text",
        "Understanding the Model: a chapter of a report on a trained stacked hourglass (skip-connection ablation, "
        "latent-space PCA, K-means with the silhouette)", "report chapter", "n.d.",
        role="Source of notebooks 03 and 04."),
    "bhansali": Reference(
        "Bhansali (n.d.)", "Nishant Bhansali (IIT Roorkee)", "Pose Estimation using Stacked Hourglass Networks",
        "report on Newell et al. 2016", "n.d.", "https://github.com/nixx14/Pose-Estimation-with-Stacked-Hourglass",
        "Source of notebook 02."),
    "he2023": Reference(
        "He et al. 2023", "Qiyuan He, Linlin Yang, Kerui Gu, Qiuxia Lin, Angela Yao (National University of Singapore)",
        "Analyzing and Diagnosing Pose Estimation with Attributions (PoseIG), supplementary material", "CVPR", "2023",
        role="Source of notebook 05."),
    "henderson2023": Reference(
        "Henderson and Houser 2023", "Aristotle Henderson, John Houser", "Pose Estimation (HRNet on MPII and two "
        "ablations)", "blog post, 28 January", "2023", role="Source of notebook 06."),
    "budaraju2020": Reference(
        "Budaraju 2020", "Sri Datta Budaraju", "Unsupervised 3D Human Pose Estimation",
        "degree project thesis (draft), KTH Royal Institute of Technology", "2020", role="Source of notebook 07."),
    "newell2016": Reference(
        "Newell et al. 2016", "Alejandro Newell, Kaiyu Yang, Jia Deng", "Stacked Hourglass Networks for Human Pose "
        "Estimation", "ECCV", "2016", "https://arxiv.org/abs/1603.06937"),
    "princeton_hourglass": Reference(
        "Princeton VL (code)", "Princeton Vision & Learning Lab", "pytorch_stacked_hourglass: the PyTorch reference "
        "implementation of the stacked hourglass", "code repository", "n.d.",
        "https://github.com/princeton-vl/pytorch_stacked_hourglass", "Its MPII validation PCKh is quoted in T02.2."),
    "sun2019": Reference(
        "Sun et al. 2019", "Ke Sun, Bin Xiao, Dong Liu, Jingdong Wang", "Deep High-Resolution Representation Learning "
        "for Human Pose Estimation (HRNet)", "CVPR", "2019", "https://github.com/leoxiaobin/deep-high-resolution-net.pytorch"),
    "xiao2018": Reference(
        "Xiao et al. 2018", "Bin Xiao, Haiping Wu, Yichen Wei", "Simple Baselines for Human Pose Estimation and "
        "Tracking (SimpleBaseline)", "ECCV", "2018", "https://github.com/microsoft/human-pose-estimation.pytorch"),
    "sun2018": Reference(
        "Sun et al. 2018", "Xiao Sun, Bin Xiao, Fangyin Wei, Shuang Liang, Yichen Wei",
        "Integral Human Pose Regression", "ECCV", "2018", "https://arxiv.org/abs/1711.08229"),
    "poseig_code": Reference(
        "He et al. (code)", "Qiyuan He et al.", "PoseIG-Template: the authors' PoseIG code on HRNet's code base",
        "code repository", "n.d.", "https://github.com/QY-H00/PoseIG-Template"),
    "sundararajan2017": Reference(
        "Sundararajan et al. 2017", "Mukund Sundararajan, Ankur Taly, Qiqi Yan", "Axiomatic Attribution for Deep "
        "Networks (integrated gradients)", "ICML", "2017", "https://arxiv.org/abs/1703.01365"),
    "pavllo2019": Reference(
        "Pavllo et al. 2019", "Dario Pavllo, Christoph Feichtenhofer, David Grangier, Michael Auli", "3D Human Pose "
        "Estimation in Video with Temporal Convolutions and Semi-Supervised Training (VideoPose3D)", "CVPR", "2019",
        "https://github.com/facebookresearch/VideoPose3D", "The lifting data layout (npz) and Human3.6M preparation."),
    "martinez2017": Reference(
        "Martinez et al. 2017", "Julieta Martinez, Rayat Hossain, Javier Romero, James J. Little", "A Simple yet "
        "Effective Baseline for 3D Human Pose Estimation", "ICCV", "2017", "https://arxiv.org/abs/1705.03098"),
    "chen2019": Reference(
        "Chen et al. 2019", "Ching-Hang Chen, Ambrish Tyagi, Amit Agrawal, Dylan Drover, Rohith MV, Stefan Stojanov, "
        "James M. Rehg", "Unsupervised 3D Pose Estimation with Geometric Self-Supervision", "CVPR", "2019",
        "https://arxiv.org/abs/1904.04812"),
    "andriluka2014": Reference(
        "Andriluka et al. 2014", "Mykhaylo Andriluka, Leonid Pishchulin, Peter Gehler, Bernt Schiele", "2D Human Pose "
        "Estimation: New Benchmark and State of the Art Analysis (MPII Human Pose)", "CVPR", "2014",
        "http://human-pose.mpi-inf.mpg.de/"),
    "lin2014": Reference(
        "Lin et al. 2014", "Tsung-Yi Lin, Michael Maire, Serge Belongie, James Hays, Pietro Perona, Deva Ramanan, "
        "Piotr Dollár, C. Lawrence Zitnick", "Microsoft COCO: Common Objects in Context", "ECCV", "2014",
        "https://cocodataset.org/"),
    "ionescu2014": Reference(
        "Ionescu et al. 2014", "Catalin Ionescu, Dragos Papava, Vlad Olaru, Cristian Sminchisescu", "Human3.6M: Large "
        "Scale Datasets and Predictive Methods for 3D Human Sensing in Natural Environments", "IEEE TPAMI", "2014",
        "http://vision.imar.ro/human3.6m/"),
    "kaufman1990": Reference(
        "Kaufman and Rousseeuw 1990", "Leonard Kaufman, Peter J. Rousseeuw", "Finding Groups in Data: An Introduction "
        "to Cluster Analysis", "Wiley", "1990", role="How large an average silhouette must be to show cluster "
        "structure (notebook 04)."),
    "rousseeuw1987": Reference(
        "Rousseeuw 1987", "Peter J. Rousseeuw", "Silhouettes: a Graphical Aid to the Interpretation and Validation of "
        "Cluster Analysis", "Journal of Computational and Applied Mathematics", "1987"),
}


def cite(key: str, where: str = "") -> str:
    """How the report cites a reference: its short form, and where in it (``cite("he2023", "Table A")``)."""
    try:
        short = REFERENCES[key].short
    except KeyError:
        raise KeyError(f"unknown reference {key!r}; known: {', '.join(REFERENCES)}") from None
    return f"{short}, {where}" if where else short


def in_order() -> list[Reference]:
    """Every reference, the source documents first."""
    return [REFERENCES[k] for k in (*SOURCES, *(k for k in REFERENCES if k not in SOURCES))]


def markdown_list() -> str:
    """The references as a Markdown list, the source documents first."""
    return "\n".join(f"* {r.markdown()}" for r in in_order())
