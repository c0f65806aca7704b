"""Contests: entries sniffed and size-capped, one vote per patron whatever the devices, votes
only from the contest's own library's patrons, judges' scores; script in entries stays text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.outreach.logic import contests
from lifeline.outreach.models import Contest, Entry, JudgeScore, Vote

WAV = (Path(__file__).parent / "data" / "pluck.wav").read_bytes()
# The start of an ISO-BMFF file with an MP4 brand: what a phone's video begins with.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def contest(library_a: Library, now: dt.datetime) -> Contest:
    return Contest.objects.create(
        library=library_a,
        title="“声”援武汉诵读比赛",
        title_en="Recitation contest for Wuhan",
        max_mb=1,
        entries_open=now - dt.timedelta(days=1),
        entries_close=now + dt.timedelta(days=1),
        voting_open=now - dt.timedelta(hours=1),
        voting_close=now + dt.timedelta(days=2),
    )


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="audio/wav")


def test_entry_vote_and_judge(
    contest: Contest, patron_a: Any, patron_a2: Any, reference_a: Any
) -> None:
    entry = contests.submit_entry(contest, patron_a, upload("朗读.wav", WAV), "春天的诗")
    assert entry.kind == "audio" and entry.mime == "audio/x-wav" and entry.size == len(WAV)
    assert entry.file.name.endswith(".wav") and "朗读" not in entry.file.name
    video = contests.submit_entry(contest, patron_a2, upload("v.mp4", MP4), "视频")
    assert video.kind == "video"
    with pytest.raises(ValidationError):  # one entry each
        contests.submit_entry(contest, patron_a, upload("b.wav", WAV), "again")
    contests.vote(video, patron_a, address="10.0.0.1")
    with pytest.raises(ValidationError):  # one vote per patron per contest
        contests.vote(entry, patron_a, address="10.0.0.2")
    with pytest.raises(ValidationError):  # not for one's own entry
        contests.vote(video, patron_a2)
    contests.judge(entry, reference_a, 91)
    contests.judge(entry, reference_a, 93)  # a judge changes their mind: one score
    contests.judge(video, reference_a, 80)
    assert JudgeScore.objects.count() == 2
    ranked = contests.standings(contest)
    assert [s.entry for s in ranked] == [entry, video]
    assert ranked[0].average == 93 and ranked[1].votes == 1
    contests.withdraw(video)
    assert [s.entry for s in contests.standings(contest)] == [entry]


def test_uploads_lying_about_their_type(contest: Contest, patron_a: Any) -> None:
    lies = [
        ("poem.mp3", b"<html><script>alert(1)</script></html>"),  # HTML called MP3
        ("poem.wav", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),  # a PNG called WAV
        ("poem.mp4", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),  # a program
        ("poem.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'),
        ("poem.mp4", WAV),  # a WAV called MP4: refused as disguised
        ("poem.wav", b""),
    ]
    for name, data in lies:
        with pytest.raises(ValidationError):
            contests.submit_entry(contest, patron_a, upload(name, data), "x")
    contest.video = False
    contest.save()
    with pytest.raises(ValidationError):
        contests.submit_entry(contest, patron_a, upload("v.mp4", MP4), "video not wanted")
    with pytest.raises(ValidationError):  # over the contest's 1 MB
        contests.submit_entry(contest, patron_a, upload("big.wav", WAV + b"\x00" * 2**20), "x")
    assert not Entry.objects.exists()


def test_votes_from_outside_and_out_of_time(
    contest: Contest, patron_a: Any, patron_a2: Any, patron_b: Any, librarian_b: Any, now: Any
) -> None:
    entry = contests.submit_entry(contest, patron_a, upload("a.wav", WAV), "a")
    for outsider in (patron_b, librarian_b):
        with pytest.raises(PermissionDenied):
            contests.vote(entry, outsider)
        with pytest.raises(PermissionDenied):
            contests.submit_entry(contest, outsider, upload("b.wav", WAV), "b")
    with pytest.raises(ValidationError):
        contests.vote(entry, patron_a2, now=contest.voting_close)
    with pytest.raises(ValidationError):
        contests.submit_entry(
            contest, patron_a2, upload("c.wav", WAV), "c", now=contest.entries_close
        )
    assert not Vote.objects.exists()


def test_pages(contest: Contest, patron_a: Any, patron_a2: Any, patron_b: Any, client: Any) -> None:
    me = client_for(patron_a)
    response = me.post(
        f"/outreach/contest/{contest.pk}/enter/",
        {"title": "<script>alert('x')</script>", "note": "<img src=x onerror=alert(1)>",
         "file": upload("a.wav", WAV)},
    )  # fmt: skip
    assert response.status_code == 302
    entry = Entry.objects.get()
    page = client.get(f"/outreach/contest/{contest.pk}/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    media = client.get(f"/outreach/entry/{entry.pk}/media")
    assert media.status_code == 200 and media["Content-Type"] == "audio/x-wav"
    assert (
        media["X-Content-Type-Options"] == "nosniff"
        and "sandbox" in media["Content-Security-Policy"]
    )
    assert b"".join(media.streaming_content) == WAV
    # Another library's patron: 403, nothing stored; anonymous: to the sign-in page.
    assert client_for(patron_b).post(f"/outreach/entry/{entry.pk}/vote/").status_code == 403
    assert "/accounts/login/" in client.post(f"/outreach/entry/{entry.pk}/vote/")["Location"]
    other = client_for(patron_a2)
    assert other.post(f"/outreach/entry/{entry.pk}/vote/").status_code == 302
    assert other.post(f"/outreach/entry/{entry.pk}/vote/").status_code == 302  # told, not twice
    assert Vote.objects.count() == 1
    assert other.get(f"/outreach/entry/{entry.pk}/vote/").status_code == 405
    assert client.post(f"/outreach/contest/{contest.pk}/").status_code == 405


def test_a_2_gb_entry_is_refused_before_its_body_is_read(contest: Contest, patron_a: Any) -> None:
    me = client_for(patron_a)
    response = me.generic(
        "POST",
        f"/outreach/contest/{contest.pk}/enter/",
        b"",  # the client promises 2 GB; the server must not wait for it
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(2 * 2**30),
    )
    assert response.status_code == 302 and response["Connection"] == "close"
    assert not Entry.objects.exists()


def test_judging_page(
    contest: Contest, patron_a: Any, reference_a: Any, librarian_b: Any, patron_a2: Any
) -> None:
    entry = contests.submit_entry(contest, patron_a, upload("a.wav", WAV), "a")
    url = f"/outreach/nefu/contest/{contest.pk}/judge/"
    staff = client_for(reference_a)
    assert staff.get(url).status_code == 200
    assert staff.post(url, {"entry": entry.pk, "score": 88}).status_code == 302
    assert staff.post(url, {"entry": entry.pk, "score": 101}).status_code == 400
    assert staff.post(url, {"entry": "²", "score": 50}).status_code == 404
    assert JudgeScore.objects.get().score == 88
    assert client_for(patron_a2).post(url, {"entry": entry.pk, "score": 1}).status_code == 403
    other = Library.objects.exclude(pk=contest.library_id).get()
    assert client_for(librarian_b).get(url.replace("nefu", other.code)).status_code == 404
    assert client_for(librarian_b).get(url).status_code == 403


def test_an_entry_without_a_length_is_cut_off_at_the_limit(rf: Any) -> None:
    # A chunked body has no Content-Length to refuse it by: the handler counts what streams in.
    from django.core.files.uploadhandler import StopUpload

    from lifeline.outreach.views_people import _CapHandler

    handler = _CapHandler(rf.post("/"), limit=2**20)
    assert handler.receive_data_chunk(b"\x00" * 2**19, 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"\x00" * 2**20, 2**19)
