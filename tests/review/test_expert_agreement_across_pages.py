"""One fact, one truth: the Teach reveal, the Label audit page and Browse's "NIH disagrees with the
experts" filter call the same adjudicated images debatable, on the same findings, over the whole
Google 2019 file and the real metadata."""

import numpy as np


def test_teach_reveal_and_label_audit_call_the_same_images_debatable(metadata):
    """The Teach reveal (quiz.reveal, every finding asked) and the Label audit's disagreement
    table (expert.disagreements over expert.comparison with the metadata's labels) name the same
    expert findings for every adjudicated image in the metadata."""
    from cxrviz.data.expert import comparison, disagreements, load_expert_labels
    from cxrviz.findings import FINDINGS
    from cxrviz.review import quiz

    experts = load_expert_labels()
    nih = {image: metadata.findings_of(image) for image in experts.table.index if metadata.findings_of(image) is not None}
    audit = disagreements(comparison(experts, nih)).groupby("image")["finding"].apply(set).to_dict()
    teach = {}
    for image, labels in nih.items():
        debatable = quiz.reveal(image, FINDINGS, (), labels, experts.of(image)).debatable
        if debatable:
            teach[image] = set(debatable)
    assert len(nih) > 4000 and len(audit) > 500  # the whole file, not a handful
    assert teach == audit
    # the Label audit page compares with the NIH labels the file carries: the same calls
    page = disagreements(comparison(experts)).groupby("image")["finding"].apply(set).to_dict()
    assert page == audit
    # and Browse's filter marks exactly these images
    from cxrviz.data.expert import row_masks

    has, disagrees = row_masks(metadata, experts)
    assert set(np.asarray(metadata.table["image"])[disagrees]) == set(teach)
