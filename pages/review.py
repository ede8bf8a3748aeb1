"""Review: walk a queue of images, fix their labels, save; every save is committed before "saved"."""

import dataclasses

import streamlit as st

from cxrviz.app import (
    acting,
    box_editor,
    campaign_queue,
    followup_view,
    measure_view,
    resources,
    review_form,
    review_keys,
    sidebar,
    state,
    viewer,
)
from cxrviz.app.messages import show_error, stop_on_error, warn_on_error
from cxrviz.app.pacs_view import is_pacs_image, pacs_gray, pacs_instance
from cxrviz.app.report_view import panel as report_panel
from cxrviz.app.text import escape_markdown, folder_name
from cxrviz.app.throughput_view import image_shown
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS
from cxrviz.review import rules
from cxrviz.review import under_review as review_value
from cxrviz.review.store import team
from cxrviz.review.suspects import FLIP_DIRECTION

state.run_through_app()
review_keys.install()  # first: ←/→ pressed before the page can act are queued, not dropped

config = resources.settings()
model = sidebar.model_picker(config)
with stop_on_error():
    metadata = resources.metadata_for(config)
    boxes = resources.boxes_for(config)
    store = resources.store_for(config)
index = resources.image_index(config)

reviewer = acting.person(config)
if not reviewer:
    st.info("Enter your name in the sidebar to start reviewing; it is recorded with every label you save.")
    st.stop()

campaign_queue.campaign_picker(store, reviewer)
sources = [rules.BROWSE_SOURCE] + ([st.session_state[state.QUEUE_SOURCE_KEY]] if st.session_state.get(state.QUEUE_KEY) else [])
source = st.sidebar.radio("Queue", sources, index=len(sources) - 1, key="queue_choice")
queue = rules.build_queue(source, st.session_state.get(state.BROWSE_ROWS_KEY), metadata, index, st.session_state.get(state.QUEUE_KEY))
if not queue:
    st.warning("The queue is empty: no image of the current Browse filter is present locally (CXRVIZ_IMAGES).")
    st.stop()
suspects_of, studies_of = state.queue_details(source)  # built once per queue by the page that sent it


@st.fragment(key=review_form.IMAGE_FRAGMENT)
def review_image() -> None:
    """The image under review: progress, the X-ray with its form, the follow-up studies and the others'
    readings. A save or a move reruns only this (the sidebar, the queue and the exports stay drawn);
    a hook that depends on the image goes in here, not at the page's top level."""
    position = rules.queue_position(queue, state.current_image())
    nav1, nav2, nav3, nav4 = st.columns([1.5, 1.2, 3, 3], vertical_alignment="center")
    # Callbacks move before the script runs, so the buttons are drawn for the image they lead from; each
    # press steps from the image current when it is applied, so two presses move two images.
    nav1.button("◀ Previous", disabled=position == 0, shortcut="ArrowLeft", on_click=state.step_image, args=(queue, -1),
                key=review_keys.PREVIOUS_KEY, width="stretch")
    nav2.button("Next ▶", disabled=position >= len(queue) - 1, shortcut="ArrowRight", on_click=state.step_image, args=(queue, 1),
                key=review_keys.NEXT_KEY, width="stretch")
    name = queue[position]
    state.set_current_image(name)
    image_shown(store, name, reviewer, source)  # each reader's time on the image starts (once per image, not per rerun)
    under = review_value.unknown(name, reviewer)  # the store unreadable: nobody's readings, no references
    with warn_on_error():
        under = team.under_review(store, name, reviewer, queue)  # this rerun's ONE read of what this reader may see of it
    view = under.view
    kept = [n for n in review_form.kept_drafts(store, reviewer, queue, under.drafted) if n != name]
    nav4.progress(under.done_mine / len(queue), text=f"You: {under.done_mine} of {len(queue)} reviewed"
                  + ("" if under.done_anyone is None else f" · anyone: {under.done_anyone}"))  # None while blind
    nav3.text(f"{name} ({position + 1} / {len(queue)})" + (f" · unsaved drafts kept: {', '.join(kept[:5])}{' …' if len(kept) > 5 else ''}" if kept else ""))

    flash = review_form.take_flash()
    if flash:
        st.toast(escape_markdown(flash), icon=":material/check_circle:")  # beside the image, not above it

    # What may be drawn of the references (`under_review.shown`: none while a campaign hides them)
    shown = review_value.shown(view, metadata.findings_of(name), boxes, model, suspects_of.get(name, ()),
                               lambda: resources.expert_note(name))
    if shown.hidden:
        st.caption("Campaign reading: the NIH labels, boxes and the model are hidden until you have read this image "
                   "(confirmed, corrected or uncertain).")
    if shown.problem:
        show_error(shown.problem)
    context = review_form.FormContext(store, name, reviewer, shown.nih, queue, shown.model_name, view.own,
                                      suspects=shown.suspects, reference=shown.reference(escape_markdown),  # folded in the form
                                      start=shown.start, advance=review_form.IMAGE_FRAGMENT,
                                      stored_draft=under.draft if under.complete else review_form.NOT_READ)

    def beside(probs) -> None:
        review_form.review_form(context, None if probs is None else {f: float(p) for f, p in zip(FINDINGS, probs)})

    try:
        path = index.path_of(name)
        if is_pacs_image(name):  # a SOP Instance UID: the image is on the PACS (CXRVIZ_DICOMWEB)
            gray = pacs_gray(config, name)
        elif path is None:  # a queue from elsewhere (an audit, a campaign) may name images this server lacks
            folder = folder_name(config.images) if config.images is not None else "(none is configured)"
            raise CxrvizError(f"{name} is not in the image folder {folder} (CXRVIZ_IMAGES); "
                              "only 'uncertain' or 'skipped' can be saved for it.")
        else:
            gray = resources.gray_of(path)
    except CxrvizError as error:
        show_error(error)
        context = dataclasses.replace(context, image_shown=False)  # only 'uncertain' or 'skipped' can be saved
        beside(None)
        return
    measuring = (measure_view.measuring_for_pacs(store, pacs_instance(config, name), reviewer, gray.shape, "review_measure",
                                                 found=under.measurements) if is_pacs_image(name)
                 else measure_view.measuring_for(store, name, reviewer, metadata, gray.shape, "review_measure", found=under.measurements))
    seen = view.visibility

    def ahead(step: int) -> dict | None:  # the queue's image `step` after this one, as it will first be shown
        if position + step >= len(queue):
            return None
        image = queue[position + step]
        # The model's work with the references, whether or not the image hides them (for after the reading);
        # its picture plain where they are hidden (the one the page will draw first).
        return dict(path=index.path_of(image), model=model, nih_labels=metadata.findings_of(image), key_prefix="review",
                    reader=reviewer, boxes_table=boxes, image=image,
                    hidden=not under.complete or seen.hides_references(image))  # the store unread: hidden, to be safe

    def next_up() -> None:  # at the end of each run of the viewer: the next picture to the browser, then the prefetch
        following, after = ahead(1), ahead(2)
        if following is not None:  # its picture, once made, goes with this page: shown at Ctrl+Enter
            review_keys.next_picture(following["image"], viewer.warm_next(**following))
        if after is not None:  # two ahead: its picture is ready to be sent with the next image
            viewer.warm_next(**after)

    viewer.show(gray, shown.model, image=name, nih_labels=shown.nih_labels, boxes_table=shown.boxes_table, key_prefix="review", beside=beside,
                reviewer_boxes=box_editor.viewer_boxes(config, name, gray.shape, boxes=view.boxes),  # "Draw boxes" (key B): on the viewer itself
                drawing=box_editor.drawing_for(store, name, reviewer, shown.boxes_table, "review_boxes", True, True, view=view),  # downloads: through the gate
                measuring=measuring, next_up=next_up)  # length, CTR (key L); the next image's prefetch
    if shown.follow_ups and name in studies_of:  # a follow-up flip: judge it beside the patient's prior and next study
        followup_view.prior_and_next(studies_of[name], [s.finding for s in shown.suspects if s.direction == FLIP_DIRECTION], index,
                                     config.cache, followup_view.follow_up_of(metadata, name))
    others = rules.others(list(view.others), reviewer) if view.others is not None else None
    st.subheader("Other reviewers of this image")
    if others is None:
        st.caption("Blind campaign: other readers' labels appear once you have read this image yourself "
                   "(confirmed, corrected or uncertain; skipping it does not open them).")
    elif others:
        st.dataframe(others, hide_index=True)
        if view.saves_audited_as_seen:
            st.caption("Your reading of this campaign image is in: a save from now on is recorded as made after seeing the "
                       "others' readings, and the adjudicator is shown your first reading beside it.")
    else:
        st.caption("Nobody else has reviewed this image yet.")

    report_panel(store, name, reviewer, view, metadata, measuring.measurements if measuring else (), image_path=path,
                 config=config, found=under.reports, theirs=under.others_reports)  # the reader's report: draft, sign, versions, downloads
    st.subheader("Export")
    if view.visibility.locked or view.visibility.references_hidden:
        st.caption(escape_markdown("Exports hold what you may see. " + view.visibility.export_notice()))
    e1, e2 = st.columns(2)
    e1.download_button("Corrections CSV", lambda: team.shared_with(store, reviewer).corrections_csv(metadata), "cxrviz_corrections.csv",
                       "text/csv", on_click="ignore", key="dl_corrections")
    e2.download_button("Data_Entry_2017.csv with corrections", lambda: team.shared_with(store, reviewer).data_entry_csv(metadata),
                       "Data_Entry_2017_corrected.csv", "text/csv", on_click="ignore", key="dl_dataentry")


review_image()
