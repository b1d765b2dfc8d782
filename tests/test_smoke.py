from factories import PairFactory


def test_member_sees_pair_home(client, login, session):
    pair = PairFactory()
    login(pair.mentor)
    response = client.get(f"/pairs/{pair.id}")
    assert response.status_code == 200
    assert pair.mentee.name in response.text
