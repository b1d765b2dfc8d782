"""New pages on a small phone (360 CSS pixels wide): nothing wider than the screen, words whole,
and what the admin must copy big enough to tap."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db

from .test_join_flow import make_admin, make_cohort

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 740}

# For each table cell without an address: its words that don't fit on one line in it, i.e. that the
# browser cut between two letters to squeeze the column.
CUT_WORDS = """() => {
  const ruler = document.createElement('span');
  ruler.style.whiteSpace = 'nowrap';
  ruler.style.position = 'absolute';
  document.body.append(ruler);
  const cut = [];
  for (const cell of document.querySelectorAll('table th, table td')) {
    if (cell.textContent.includes('@')) continue;
    ruler.style.font = getComputedStyle(cell).font;
    const room = cell.clientWidth - parseFloat(getComputedStyle(cell).paddingLeft) - parseFloat(getComputedStyle(cell).paddingRight);
    for (const word of cell.textContent.split(/\\s+/).filter(Boolean)) {
      ruler.textContent = word;
      if (ruler.getBoundingClientRect().width > room + 0.5) cut.push(word);
    }
  }
  ruler.remove();
  return cut;
}"""


def _admin_on_a_small_phone(new_context, live_server) -> Page:
    """A small phone with the program's admin signed in through a one-time link."""
    admin = make_admin(live_server)
    page: Page = new_context(viewport=SMALL_PHONE).new_page()
    page.goto(live_server.sign_in_url(admin))
    page.get_by_role("button", name=f"Continue as {admin.name}").click()
    expect(page.get_by_role("heading", name="Welcome, Ruth")).to_be_visible()
    return page


def test_the_participants_page_fits_a_small_phone(new_context, live_server):
    cohort = make_cohort(live_server, 360)
    from app.models import Participant

    with live_server.app.app_context():
        for participant in db.session.scalars(db.select(Participant).filter_by(program_id=cohort.program_id)):
            participant.department, participant.level = "Engineering", "Director"
        db.session.commit()
    page = _admin_on_a_small_phone(new_context, live_server)

    page.goto(f"/admin/programs/{cohort.program_id}/participants")
    expect(page.get_by_role("heading", name="How people join")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    link = page.get_by_role("textbox", name="Join link to copy").bounding_box()
    assert link["height"] >= 44 and link["width"] >= 280, link
    assert page.evaluate(CUT_WORDS) == []
    expect(page.get_by_role("row").filter(has_text=cohort.mentee[0])).to_contain_text("Not joined yet")


# Every element inside a card that reaches past the card's right edge: cut off by the border, or
# spilling over it, even when the page itself is no wider than the screen.
SPILLS = """() => [...document.querySelectorAll('.card *')].filter((element) => {
  const card = element.parentElement.closest('.card').getBoundingClientRect();
  const box = element.getBoundingClientRect();
  return box.width > 0 && box.right > card.right - 1;
}).map((element) => `${element.tagName.toLowerCase()}[name=${element.getAttribute('name') || ''}]`)"""


def test_the_next_meeting_form_fits_its_card_on_a_small_phone(live_server, phone):
    pair = live_server.create_pair()
    page = phone(pair.mentee).page
    page.set_viewport_size(SMALL_PHONE)
    page.goto(f"{pair.url}/next-meeting")
    expect(page.get_by_label("Time")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []


def test_the_notifications_page_fits_a_small_phone_and_saves(live_server, phone):
    pair = live_server.create_pair()
    page = phone(pair.mentee).page
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/account/notifications")
    hour_before = page.get_by_role("group", name="An hour before a meeting")
    expect(hour_before).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    # Thumb-sized choices, saved in place by htmx.
    off = hour_before.get_by_label("Off")
    off.check()
    assert hour_before.locator("label.choice").first.bounding_box()["height"] >= 44
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    page.reload()
    expect(page.get_by_role("group", name="An hour before a meeting").get_by_label("Off")).to_be_checked()


def test_the_unsubscribe_page_fits_a_small_phone_and_turns_off_one_kind(new_context, live_server):
    """Opened from a mail on a phone, signed out: one thumb-sized button, and only that kind off."""
    from app.models import Kind, NotificationPreference, User
    from app.reminders.preferences import unsubscribe_token

    pair = live_server.create_pair()
    with live_server.app.app_context():
        token = unsubscribe_token(db.session.get(User, pair.mentee.id), Kind.ACTION_DUE)
    page: Page = new_context(viewport=SMALL_PHONE).new_page()
    page.goto(f"/notifications/unsubscribe/{token}")
    expect(page.get_by_role("heading", name="Stop “An action due tomorrow”?")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    button = page.get_by_role("button", name="Unsubscribe")
    assert button.bounding_box()["height"] >= 44
    button.click()
    expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    with live_server.app.app_context():
        chosen = db.session.scalars(db.select(NotificationPreference).filter_by(user_id=pair.mentee.id)).all()
        assert [(p.kind, p.channel.value) for p in chosen] == [(Kind.ACTION_DUE, "off")]


def test_the_admins_answer_to_a_request_for_help_fits_a_small_phone(new_context, live_server):
    """The admin answers between meetings too: the request and the form fit, and the answer is sent."""
    from app.models import HelpRequest, Pair

    pair = live_server.create_pair()
    long_word = "Rückmeldungsgespräch" * 4  # one unbroken word, wider than the screen
    with live_server.app.app_context():
        program_id = db.session.get(Pair, pair.id).program_id
        db.session.add(
            HelpRequest(
                program_id=program_id,
                sender_id=pair.mentee.id,
                pair_id=pair.id,
                message=f"Could we talk about the {long_word} before our next meeting?",
            )
        )
        db.session.commit()
    page = _admin_on_a_small_phone(new_context, live_server)

    page.goto(f"/admin/programs/{program_id}/help")
    request = page.get_by_role("article", name=pair.mentee.name)
    expect(request).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    request.get_by_role("textbox").fill("Yes: I'll call you on Thursday morning.")
    send = request.get_by_role("button", name="Send the answer")
    assert send.bounding_box()["height"] >= 44
    send.click()
    expect(page.get_by_role("article", name=pair.mentee.name)).to_contain_text("I'll call you on Thursday morning.")


def test_a_proposed_match_fits_a_small_phone_and_is_answered(live_server, phone):
    """The page where a person says yes or no to a proposed match, with long reasons and names."""
    from app.models import Intake, IntakeRole, MatchProposal, Participant, ProposalState, utcnow

    mentor = live_server.create_user("Aisha Khan-Rahimova")
    mentee = live_server.create_user("Margaret Holloway-Castellano")
    with live_server.app.app_context():
        from app.models import Program

        program = Program(name="Northwind reverse mentoring cohort", starts_on=utcnow().date(), ends_on=utcnow().date())
        db.session.add(program)
        db.session.flush()
        places = [
            Participant(program_id=program.id, user_id=person.id, department=dept, level=level)
            for person, dept, level in ((mentor, "Marketing", "L2"), (mentee, "Finance", "L5"))
        ]
        db.session.add_all(places)
        db.session.flush()
        db.session.add_all([Intake(participant_id=p.id, role=IntakeRole.EITHER) for p in places])
        proposal = MatchProposal(
            program_id=program.id,
            mentor_id=places[0].id,
            mentee_id=places[1].id,
            state=ProposalState.SENT,
            sent_at=utcnow(),
            reasons=[
                "Aisha can teach Short-form video, Generative AI tools and LinkedIn and personal branding, "
                "which Margaret wants to learn",
                "Margaret can help Aisha with Presenting to a board and Stakeholder management",
                "both like hiking",
                "Marketing and Finance",
                "three levels apart",
            ],
        )
        db.session.add(proposal)
        db.session.commit()
        program_id = program.id
    page = phone(mentor).page
    page.set_viewport_size(SMALL_PHONE)
    page.goto(f"/programs/{program_id}/match")
    yes = page.get_by_role("button", name="Yes, let's meet")
    expect(yes).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    assert yes.bounding_box()["height"] >= 44
    yes.click()
    expect(page.get_by_role("status")).to_contain_text("We'll tell you")
    expect(page.get_by_text("You said yes")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def _matching_program(live_server, people: int):
    """A program with ``people`` mentors and as many mentees, long names and long reasons, and a
    proposal for each of them (one each waiting, gone ahead and not going ahead, the rest open)."""
    from app.models import Intake, IntakeRole, MatchProposal, Participant, Program, ProposalState, User, utcnow

    with live_server.app.app_context():
        program = Program(name="Northwind reverse mentoring cohort", starts_on=utcnow().date(), ends_on=utcnow().date())
        db.session.add(program)
        db.session.flush()
        pairs = []
        for i in range(people):
            places = []
            for side, dept, level in (
                ("Aisha Khan-Rahimova", "Marketing", "L2"),
                ("Margaret Holloway-Castellano", "Finance", "L5"),
            ):
                user = User(name=f"{side} {i}", email=f"{side.split()[0].lower()}{i}-{program.id}@northwind.example")
                db.session.add(user)
                db.session.flush()
                place = Participant(program_id=program.id, user_id=user.id, department=f"{dept} {i}", level=level)
                db.session.add(place)
                db.session.flush()
                db.session.add(
                    Intake(
                        participant_id=place.id,
                        role=IntakeRole.MENTOR if level == "L2" else IntakeRole.MENTEE,
                        teach=["Short-form video"] if level == "L2" else ["Presenting to a board"],
                        learn=["Presenting to a board"] if level == "L2" else ["Short-form video"],
                        languages="English",
                    )
                )
                places.append(place)
            pairs.append(places)
        states = [ProposalState.SENT, ProposalState.GOING_AHEAD, ProposalState.NOT_GOING_AHEAD]
        for i, (mentor, mentee) in enumerate(pairs):
            state = states[i] if i < len(states) else ProposalState.PROPOSED
            db.session.add(
                MatchProposal(
                    program_id=program.id,
                    mentor_id=mentor.id,
                    mentee_id=mentee.id,
                    state=state,
                    score=10.0 - i,
                    sent_at=utcnow() if state != ProposalState.PROPOSED else None,
                    closed_at=utcnow() if state in states[1:] else None,
                    reasons=[
                        "Aisha can teach Short-form video, Generative AI tools and LinkedIn and personal branding, "
                        "which Margaret wants to learn",
                        "Margaret can help Aisha with Presenting to a board and Stakeholder management",
                        f"Marketing {i} and Finance {i}",
                        "three levels apart",
                    ],
                )
            )
        db.session.commit()
        first_open = db.session.scalar(
            db.select(MatchProposal.id)
            .filter_by(program_id=program.id, state=ProposalState.PROPOSED)
            .order_by(MatchProposal.score.desc())
        )
        return program.id, first_open


def test_the_sent_proposals_fit_a_small_phone_and_one_is_withdrawn(new_context, live_server):
    program_id, _ = _matching_program(live_server, 3)
    page = _admin_on_a_small_phone(new_context, live_server)
    page.goto(f"/admin/programs/{program_id}/matching?view=sent")
    expect(page.get_by_role("heading", name="Sent to both (3)")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    withdraw = page.get_by_role("button", name="Withdraw")
    assert withdraw.count() == 1 and withdraw.bounding_box()["height"] >= 44
    page.once("dialog", lambda dialog: dialog.accept())
    withdraw.click()
    expect(page.get_by_role("status")).to_contain_text("Withdrawn")
    expect(page.get_by_text("0 waiting · 1 going ahead · 2 not going ahead")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def test_the_swap_page_fits_a_small_phone(new_context, live_server):
    program_id, first_open = _matching_program(live_server, 6)
    page = _admin_on_a_small_phone(new_context, live_server)
    page.goto(f"/admin/programs/{program_id}/matching/proposals/{first_open}/swap")
    swap = page.get_by_role("button", name="Swap").first
    expect(swap).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    assert swap.bounding_box()["height"] >= 44
    assert page.get_by_role("searchbox", name="Find a proposal by name").bounding_box()["height"] >= 44
    assert page.get_by_role("button", name="Find").bounding_box()["height"] >= 44


class _Exact:
    """Figures as they are, each with the give-or-take the real noise would have: so the page
    shows every figure ("about 12, give or take 2") whatever a random draw would hide."""

    def __init__(self) -> None:
        from app.admin import snapshots

        self.real = snapshots.OPENDP

    def counts(self, values, l1, epsilon):
        return [int(v) for v in values]

    def sums(self, values, l1, epsilon):
        return [float(v) for v in values]

    def count_slack(self, l1, epsilon):
        return self.real.count_slack(l1, epsilon)

    def sum_slack(self, l1, epsilon):
        return self.real.sum_slack(l1, epsilon)


def test_the_dashboard_with_its_figures_fits_a_small_phone(new_context, live_server):
    from datetime import UTC, date, datetime, timedelta

    from app.admin import snapshots
    from app.models import FeedbackAnswer, Meeting, Pair, Participant, Program, Prompt, PromptKind, PromptSet, User

    today = date.today()
    month = snapshots.last_closed_month(today)
    # Within both the last closed week and month, so both count it.
    met_on = min(snapshots.last_closed_week(today).last, month.last) - timedelta(days=2)
    with live_server.app.app_context():
        program = Program(
            name="Northwind reverse mentoring cohort", starts_on=month.first, ends_on=today + timedelta(days=90)
        )
        db.session.add(program)
        db.session.flush()
        prompt_set = PromptSet(program_id=program.id, name="Check-in")
        db.session.add(prompt_set)
        db.session.flush()
        prompt = Prompt(
            prompt_set_id=prompt_set.id,
            text="I felt safe to be candid with my partner about what I don't know yet",
            kind=PromptKind.SCALE,
            position=0,
        )
        db.session.add(prompt)
        departments = ["Customer Experience and Operations Excellence", "Finance", "Engineering"]
        for i in range(42):
            mentor = User(name=f"Aisha Khan-Rahimova {i}", email=f"aisha{i}-{program.id}@northwind.example")
            mentee = User(name=f"Margaret Holloway {i}", email=f"margaret{i}-{program.id}@northwind.example")
            pair = Pair.create(program, mentor=mentor, mentee=mentee)
            db.session.add(pair)
            db.session.flush()
            db.session.add(Participant(program_id=program.id, user_id=mentor.id, department="Marketing"))
            db.session.add(Participant(program_id=program.id, user_id=mentee.id, department=departments[i % 3]))
            if i % 2:
                db.session.add(Meeting(pair_id=pair.id, held_on=met_on, author_id=mentor.id))
            db.session.add(
                FeedbackAnswer(
                    pair_id=pair.id,
                    round_key="week-1",
                    prompt_id=prompt.id,
                    user_id=mentee.id,
                    score=4,
                    created_at=datetime.combine(month.first, datetime.min.time(), tzinfo=UTC) + timedelta(days=1),
                )
            )
        db.session.commit()
        results = snapshots.publish_due(noise=_Exact())
        program_id = program.id
    assert {r.outcome for r in results if r.program_id == program_id} == {"published"}

    page = _admin_on_a_small_phone(new_context, live_server)
    page.goto(f"/admin/programs/{program_id}/dashboard")
    expect(page.get_by_role("heading", name="Meetings per pair")).to_be_visible()
    expect(page.locator(".figures")).to_contain_text("about 21, give or take 3")
    expect(page.get_by_role("table", name="Active pairs by department")).to_contain_text("give or take")
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    assert page.evaluate(CUT_WORDS) == []


# --- ending well, people's data, admins per program ----------------------------------------------

# Words that don't break on their own: a pasted link in a reason, a long address, a long name.
UNBROKEN = "https://intranet.northwind.example/teams/people-and-culture/reverse-mentoring/2026/cohort-notes"
LONG_EMAIL = "bartholomew.featherstonehaugh-worthington@people-and-culture.northwind.example"


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []


def _program_that_ended(live_server) -> int:
    """A program with a pair closed early (its reason, a pasted link, shared with the admin), one
    not started yet, a participant who never joined, and a log with long names in it."""
    from app.ending import closing
    from app.models import AuditAction, AuditEvent, ClosingReason, Pair, PairEnding, Participant, User

    cohort = make_cohort(live_server, 361)
    with live_server.app.app_context():
        closer = db.session.scalar(db.select(User.id).filter_by(email=cohort.mentor[1]))
        closing.close(cohort.pair_id, PairEnding.EARLY, by=closer)
        db.session.add(ClosingReason(pair_id=cohort.pair_id, author_id=closer, text=UNBROKEN, shared=True))
        program_id = cohort.program_id
        from app.models import Program

        program = db.session.get(Program, program_id)
        fresh = Pair.create(
            program,
            mentor=User(name="Oluwaseun Adebayo-Whitfield", email="oluwaseun361@northwind.example"),
            mentee=User(name="Maximilian Castellanos", email="max361@northwind.example"),
        )
        never = User(name="Bartholomew Featherstonehaugh", email=LONG_EMAIL)
        db.session.add_all([fresh, never])
        db.session.flush()
        db.session.add(Participant(program_id=program_id, user_id=never.id, department="People and Culture"))
        db.session.add_all(
            AuditEvent(program_id=program_id, action=action, subject_id=never.id, details=details)
            for action, details in (
                (AuditAction.PARTICIPANT_ADDED, {}),
                (AuditAction.SETTINGS_CHANGED, {"changed": ["how long pairs' words are kept", "end date"]}),
                (AuditAction.HELP_READ, {"requests": 12}),
            )
        )
        db.session.commit()
    return program_id


def test_the_admins_ending_log_and_admins_pages_fit_a_small_phone(new_context, live_server):
    program_id = _program_that_ended(live_server)
    page = _admin_on_a_small_phone(new_context, live_server)

    page.goto(f"/admin/programs/{program_id}/ending")
    expect(page.get_by_role("heading", name="Participants who never joined")).to_be_visible()
    expect(page.get_by_text(UNBROKEN)).to_be_visible()
    _fits(page)
    undo = page.get_by_role("button", name="Undo this pair…")
    assert undo.bounding_box()["height"] >= 24
    undo.click()
    expect(page.get_by_role("button", name="Undo this pair")).to_be_visible()
    _fits(page)

    page.goto(f"/admin/programs/{program_id}/log")
    expect(page.get_by_role("heading", name="What the program's admins did")).to_be_visible()
    expect(page.get_by_text("Bartholomew Featherstonehaugh").first).to_be_visible()
    _fits(page)

    page.goto(f"/admin/programs/{program_id}/admins")
    page.get_by_label("Name").fill("Wilhelmina Montgomery-Fairweather")
    page.get_by_label("Email").fill("wilhelmina." + LONG_EMAIL)
    page.get_by_role("button", name="Add admin").click()
    expect(page.get_by_role("status")).to_contain_text("is an admin of this program")
    _fits(page)
    assert page.get_by_role("button", name="Remove").bounding_box()["height"] >= 44


def test_the_account_pages_export_fits_a_small_phone_and_downloads(live_server, phone):
    pair = live_server.create_pair()
    page = phone(pair.mentee).page
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/account/passkeys#your-data")
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    _fits(page)
    button = page.get_by_role("button", name="Download my data")
    assert button.bounding_box()["height"] >= 44
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename.startswith("twoway-export-")
    page.reload()
    expect(page.get_by_role("link", name="Download your export")).to_be_visible()
    _fits(page)
