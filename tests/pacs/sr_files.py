"""A TID 1500 Comprehensive SR made with highdicom directly (h-sr's writer is another branch): a
reviewer's reading of a PACS image, with the image as evidence, for the STOW tests."""

from __future__ import annotations

import highdicom as hd
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from tests.pacs.dicom_files import UID_ROOT


def reading_sr(image, reviewer: str, findings: list[str], series_description: str = "cxrviz review"):
    """`image`: the PACS image's pydicom Dataset; the SR goes into its study."""
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person, observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=reviewer))
    context = hd.sr.ObservationContext(observer_person_context=observer)
    evaluations = [hd.sr.CodedConcept(value="121071", scheme_designator="DCM", meaning="Finding")]
    qualitative = [
        hd.sr.QualitativeEvaluation(name=evaluations[0], value=hd.sr.CodedConcept(value=f"cxrviz-{i}", scheme_designator="99CXRVIZ",
                                                                                 meaning=finding[:64]))
        for i, finding in enumerate(findings)
    ]
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(UID_ROOT), identifier="cxrviz reading"),
        qualitative_evaluations=qualitative or None,
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(image)],
    )
    report = hd.sr.MeasurementReport(
        observation_context=context,
        procedure_reported=hd.sr.CodedConcept(value="399208008", scheme_designator="SCT", meaning="Plain chest X-ray"),
        imaging_measurements=[group],
    )
    sr = hd.sr.ComprehensiveSR(
        evidence=[image], content=report[0], series_instance_uid=generate_uid(UID_ROOT), series_number=99,
        sop_instance_uid=generate_uid(UID_ROOT), instance_number=1, manufacturer="cxrviz", is_complete=True,
        is_final=True, series_description=series_description,
    )
    return sr
