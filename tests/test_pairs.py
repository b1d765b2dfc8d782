"""The pair space: my pairs, a pair's home, and pages that stay cheap as data grows."""

from __future__ import annotations

from datetime import date

from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from support.pages import text, words

from app.models import PairStatus, Passkey

# Queries per page (loading the signed-in person included). A page's count must not grow with data.
# "/": 4 with the programs whose intake form the person may fill (authz.intake_programs).
# The account page: the person, their passkeys, their recovery codes, their latest data export.
# A pair's section reads its tab bar's badges in one query (app/pairs/badges.py): 2 + 1. The home
# reads them with its own (dashboard.Waiting).
PINNED = {"/": 4, "pair home": 7, "pair section": 2 + 1, "/account/passkeys": 4, "/admin": 2}


def test_my_pairs_across_programs(client, login, session):
    me = UserFactory(name="Aisha Khan")
    spring = ProgramFactory(name="Spring cohort", starts_on=date(2026, 3, 1))
    autumn = ProgramFactory(name="Autumn cohort", starts_on=date(2026, 9, 1))
    first = PairFactory(program=spring, mentor=me, mentee=UserFactory(name="Margaret Holloway"))
    second = PairFactory(program=autumn, mentee=me, mentor=UserFactory(name="Tomás Ortega"))
    PairFactory(mentee=UserFactory(name="Someone Else"))
    login(me)
    page = text(client.get("/"))
    assert "You and Margaret Holloway" in page and "You and Tomás Ortega" in page
    assert "Someone Else" not in page
    # Newest program first; each pair says which role I have in it.
    assert page.index("Autumn cohort") < page.index("Spring cohort")
    assert "You're the mentee · Autumn cohort" in page and "You're the mentor · Spring cohort" in page
    assert f'href="/pairs/{first.id}"' in page and f'href="/pairs/{second.id}"' in page


def test_someone_without_a_pair_is_told_what_happens_next(client, login, session):
    login(UserFactory())
    assert "You're not in a pair yet" in text(client.get("/"))


def test_pair_home_names_both_people_and_the_sections(client, login, session):
    pair = PairFactory(mentor=UserFactory(name="Kwame Mensah"), mentee=UserFactory(name="Helen Castellano"))
    login(pair.mentee)
    response = client.get(f"/pairs/{pair.id}")
    page = text(response)
    assert "You and Kwame Mensah" in page
    assert "You're the mentee and Kwame is the mentor" in words(response)
    # Each section's long label, and the short one its tab shows on a phone.
    for label, short, path in (
        ("Ground rules", "Rules", "ground-rules"),
        ("Goals", "Goals", "goals"),
        ("Journal", "Journal", "journal"),
        ("Feedback", "Check-in", "feedback"),
    ):
        assert (
            f'href="/pairs/{pair.id}/{path}"><span class="tab-long">{label}</span><span class="tab-short">{short}</span></a>'
            in page
        )


def test_an_ended_pair_is_marked(client, login, session):
    pair = PairFactory()
    pair.status = PairStatus.ENDED
    login(pair.mentor)
    assert " · ended" in text(client.get("/"))


def _count(client, queries, url: str) -> int:
    with queries() as log:
        assert client.get(url).status_code == 200
    return log.count


def test_query_counts_are_pinned_and_flat(client, login, queries, session):
    me = UserFactory()
    admin = AdminFactory()
    pairs = [PairFactory(mentor=me)]
    login(me)

    def measure() -> dict[str, int]:
        login(me)
        counts = {
            "/": _count(client, queries, "/"),
            "pair home": _count(client, queries, f"/pairs/{pairs[0].id}"),
            "pair section": _count(client, queries, f"/pairs/{pairs[0].id}/feedback"),
            "/account/passkeys": _count(client, queries, "/account/passkeys"),
        }
        login(admin)
        counts["/admin"] = _count(client, queries, "/admin")
        return counts

    assert measure() == PINNED
    for doubling in range(3):  # 1 → 8 pairs, programs and passkeys
        for _ in range(len(pairs)):
            pairs.append(PairFactory(mentee=me))
            session.add(
                Passkey(
                    user_id=me.id,
                    credential_id=f"c{len(pairs)}".encode(),
                    public_key=b"k",
                    aaguid="0" * 36,
                    nickname="Phone",
                )
            )
        assert measure() == PINNED, f"after doubling {doubling + 1} times"
