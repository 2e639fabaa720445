"""The phrase matcher of natural-language reservations and the finder of terms links (issue #13
item 4): positives and negatives per language, from policies/registries/natural_language.toml."""

from __future__ import annotations

import dataclasses

import pytest

from policies import reasons
from policies.engine import decide
from policies.evidence import Signal
from policies.profile import ProfileError, load_profile
from policies.signals.natural_language import (
    Phrases,
    document_text,
    normalise,
    reservation_signal,
    sentences,
)
from policies.signals.terms_links import is_terms_link, terms_links

RESERVING = [
    ("en", "We expressly reserve our rights under Article 4(3) of Directive (EU) 2019/790 to use "
           "our content for text and data mining."),
    ("en", "Example Media reserves all rights to text and data mining within the meaning of "
           "Art. 4(3) of the DSM Directive."),
    ("en", "The content of this site may not be used to train artificial intelligence models."),
    ("en", "You may not use our content for AI training."),
    ("en", "Use of this website's content for machine learning or AI training is strictly "
           "prohibited."),
    ("en", "The use of our articles for text and data mining is expressly reserved."),
    ("vi", "Nghiêm cấm sử dụng nội dung trên trang này để huấn luyện trí tuệ nhân tạo (AI)."),
    ("vi", "Chúng tôi bảo lưu quyền khai thác văn bản và dữ liệu đối với toàn bộ nội dung."),
    ("vi", "Bạn không được sử dụng bài viết để đào tạo mô hình AI."),
    ("de", "Der Betreiber behält sich die Nutzung seiner Inhalte für Text- und Data-Mining gemäß "
           "§ 44b UrhG ausdrücklich vor."),
    ("de", "Die Nutzung für das Training von KI-Modellen ist untersagt."),
    ("fr", "L'éditeur s'oppose à la fouille de textes et de données au sens de l'article "
           "L. 122-5-3 du CPI."),
    ("fr", "Il est interdit d'utiliser les contenus pour l'entraînement de modèles "
           "d'intelligence artificielle."),
    ("zh", "禁止将本网站内容用于人工智能训练。"),
    ("zh", "本站保留对文本和数据挖掘的一切权利。"),
    ("ja", "当サイトのコンテンツをAI学習に利用することを禁止します。"),
    # es / it / nl / pt: the art. 4(3) wording of each language's text of the Directive.
    ("es", "El editor se reserva expresamente los derechos de minería de textos y datos conforme "
           "al artículo 4, apartado 3, de la Directiva (UE) 2019/790."),
    ("es", "Queda prohibido utilizar los contenidos de este sitio para el entrenamiento de modelos "
           "de inteligencia artificial."),
    ("es", "Los contenidos no pueden ser utilizados para minería de textos y datos."),
    ("it", "L'editore si riserva espressamente i diritti di estrazione di testo e di dati ai sensi "
           "dell'articolo 4, paragrafo 3, della direttiva (UE) 2019/790."),
    ("it", "È vietato l'utilizzo dei contenuti per l'addestramento di modelli di intelligenza "
           "artificiale."),
    ("nl", "De uitgever behoudt zich uitdrukkelijk het recht voor op tekst- en datamining als "
           "bedoeld in artikel 4, lid 3, van Richtlijn (EU) 2019/790."),
    ("nl", "Het is verboden de inhoud van deze website te gebruiken voor het trainen van "
           "AI-modellen."),
    ("pt", "O editor reserva expressamente os direitos de prospeção de textos e dados nos termos "
           "do artigo 4.º, n.º 3, da Diretiva (UE) 2019/790."),
    ("pt", "É proibida a utilização dos conteúdos deste sítio para o treino de modelos de "
           "inteligência artificial."),
    ("pt", "Os conteúdos não podem ser usados para mineração de dados."),
]  # fmt: skip

NOT_RESERVING = [
    ("en", "We use AI to recommend articles."),
    ("en", "You may use our content for text and data mining."),
    ("en", "You may use the content of this site for text and data mining, including for "
           "training AI models."),
    ("en", "We do not reserve our rights under Article 4(3) of Directive (EU) 2019/790."),
    ("en", "Text and data mining is not prohibited."),
    ("en", "Nothing in these terms prohibits text and data mining."),
    ("en", "© 2026 Example. All rights reserved."),
    ("en", "We reserve the right to use machine learning to personalise content."),
    ("en", "We reserve the right to use your content to train our AI models."),
    ("en", "Using our AI chatbot to generate illegal content is prohibited."),
    ("vi", "Chúng tôi sử dụng AI để gợi ý bài viết cho bạn."),
    ("vi", "Bạn được phép sử dụng nội dung để khai thác văn bản và dữ liệu."),
    ("vi", "Chúng tôi không cấm khai thác văn bản và dữ liệu."),
    ("de", "Text- und Data-Mining ist nicht untersagt."),
    ("de", "Wir nutzen künstliche Intelligenz, um Artikel zu empfehlen."),
    ("fr", "Nous utilisons l'intelligence artificielle pour recommander des articles."),
    ("fr", "La fouille de textes et de données n'est pas interdite."),
    ("zh", "我们使用人工智能为您推荐文章。"),
    ("zh", "本网站不禁止文本和数据挖掘。"),
    ("ja", "AI学習への利用を禁止していません。"),
    ("ja", "当サイトはAIを使って記事をおすすめします。"),
    ("es", "Utilizamos inteligencia artificial para recomendar artículos."),
    ("es", "La minería de textos y datos no está prohibida."),
    ("es", "Puede utilizar nuestros contenidos para minería de textos y datos."),
    ("es", "© 2026 Ejemplo. Todos los derechos reservados."),
    ("es", "Nos reservamos el derecho de usar tus contenidos para entrenar nuestros modelos de IA."),
    ("it", "Utilizziamo l'intelligenza artificiale per consigliare articoli."),
    ("it", "L'estrazione di testo e di dati non è vietata."),
    ("it", "Puoi utilizzare i nostri contenuti per l'estrazione di testo e di dati."),
    ("nl", "Wij gebruiken kunstmatige intelligentie om artikelen aan te bevelen."),
    ("nl", "Tekst- en datamining is niet verboden."),
    ("nl", "U mag onze inhoud gebruiken voor tekst- en datamining."),
    ("pt", "Utilizamos inteligência artificial para recomendar artigos."),
    ("pt", "A prospeção de textos e dados não é proibida."),
    ("pt", "Reservamo-nos o direito de usar os teus conteúdos para treinar modelos de IA."),
]  # fmt: skip


@pytest.fixture(scope="module")
def phrases():
    return Phrases.load()


@pytest.mark.parametrize(("language", "sentence"), RESERVING)
def test_a_reserving_sentence_is_found(phrases, language, sentence):
    found = phrases.find(f"Welcome to our site.\n{sentence}\nThank you.")
    assert found is not None
    # Sentences are NFKC-normalised ("4.º" reads "4.o").
    assert (found.language, found.sentence) == (language, normalise(sentence))


@pytest.mark.parametrize(("language", "sentence"), NOT_RESERVING)
def test_a_sentence_that_reserves_nothing_is_not(phrases, language, sentence):
    assert phrases.find(sentence) is None, language


def test_words_of_two_sentences_do_not_make_a_reservation(phrases):
    text = "All rights reserved. We use text and data mining to improve search."
    assert phrases.find(text) is None


def test_sentences_do_not_end_at_abbreviations():
    text = "Art. 4(3) applies, e.g. AI training. Gem. § 44b UrhG gilt.\n第一。第二"
    assert sentences(text) == [
        "Art. 4(3) applies, e.g. AI training.", "Gem. § 44b UrhG gilt.", "第一。", "第二",
    ]  # fmt: skip


def test_the_text_of_an_html_page_skips_scripts_and_respects_its_charset():
    body = (
        '<html><head><script>var x = "may not be used for AI training";</script></head>'
        "<body><p>Điều khoản</p><p>Nghiêm cấm</p></body></html>"
    ).encode()
    text = document_text(body, "text/html; charset=utf-8")
    assert text is not None
    assert "Điều khoản" in text and "AI training" not in text
    assert document_text(b"%PDF-1.7", "application/pdf") is None


def test_the_signal_names_the_page_its_record_and_the_sentence():
    body = b"<p>Hello.</p><p>You may not use our content for AI training.</p>"
    signal = reservation_signal("https://x.test/terms", body, "text/html", record_id="<urn:1>")
    assert signal == Signal(
        "natural-language-reservation",
        "https://x.test/terms",
        "You may not use our content for AI training.",
        "unknown",
        reasons.NATURAL_LANGUAGE_RESERVATION,
        evidence_record="<urn:1>",
        problems=("natural language (en), not a machine-readable protocol",),
    )
    assert reservation_signal("https://x.test/terms", b"<p>We use AI.</p>", "text/html") is None


@pytest.mark.parametrize(
    ("text", "href", "rel"),
    [
        ("Terms of use", "/page?id=7", ""),
        ("Legal notice", "/x", ""),
        ("Mentions légales", "/x", ""),
        ("Impressum", "/x", ""),
        ("Điều khoản sử dụng", "/x", ""),
        ("利用規約", "/x", ""),
        ("版权声明", "/x", ""),
        ("Aviso legal", "/x", ""),
        ("Note legali", "/x", ""),
        ("Algemene voorwaarden", "/x", ""),
        ("Termos de uso", "/x", ""),
        ("", "/termos-e-condicoes", ""),
        ("", "/legal/terms-of-use.html", ""),
        ("Read", "/dieu-khoan", ""),
        ("", "/x", "terms-of-service"),
    ],
)
def test_terms_links_are_found_by_text_url_or_relation(text, href, rel):
    assert is_terms_link(text, f"https://x.test{href}", rel)


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("About us", "/about"),
        ("A long article about the terms of the peace treaty and what they meant", "/news/7"),
        ("Weather", "/weather-conditions"),
        ("Our licence", "https://creativecommons.org/licenses/by/4.0/"),  # rel=license elsewhere
    ],
)
def test_other_links_are_not(text, href):
    assert not is_terms_link(text, href if "://" in href else f"https://x.test{href}")


def test_terms_links_of_a_page_in_order_once_without_fragments():
    html = (
        '<a href="/b">B</a><footer><a href="/terms#top">Terms</a> <a href="/terms">Terms</a>'
        '<a href="mailto:legal@x.test">Legal</a> <a href="/impressum">Impressum</a></footer>'
    )
    assert terms_links(html, "https://x.test/a") == [
        "https://x.test/terms",
        "https://x.test/impressum",
    ]


def _finding():
    return Signal(
        "natural-language-reservation",
        "https://x.test/terms",
        "You may not use our content for AI training.",
        "unknown",
        reasons.NATURAL_LANGUAGE_RESERVATION,
        evidence_record="<urn:1>",
    )


def test_profiles_decide_what_a_finding_means():
    finding = _finding()
    strict = decide("https://x.test/a", [finding], profile=load_profile("strict"),
                    stage="before-fetch")  # fmt: skip
    assert strict.reasons == (reasons.NATURAL_LANGUAGE_RESERVATION,)
    vn = decide("https://x.test/a", [finding], profile=load_profile("vn-decree-134-2026"),
                stage="before-fetch")  # fmt: skip
    assert vn.reasons == (reasons.NATURAL_LANGUAGE_RESERVATION,)
    eu = decide("https://x.test/a", [finding], profile=load_profile("eu-dsm-art4"),
                stage="after-fetch")  # fmt: skip
    assert eu.kept
    assert eu.detail["review"] == [
        {
            "reason": reasons.NATURAL_LANGUAGE_RESERVATION,
            "kind": "natural-language-reservation",
            "source": "https://x.test/terms",
            "value": "You may not use our content for AI training.",
            "evidence_record": "<urn:1>",
        }
    ]
    for name in ("us", "jp-art-30-4", "cn-genai", "eu-dsm-art3"):
        other = decide("https://x.test/a", [finding], profile=load_profile(name),
                       stage="after-fetch")  # fmt: skip
        assert other.kept and "review" not in other.detail, name
        assert other.signals == (finding,)  # recorded


def test_a_profile_cannot_both_honour_and_review_a_reason(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text(
        'name = "both"\nreview = ["natural-language-reservation"]\n'
        "[reservations]\nnatural-language-reservation = true\n"
    )
    with pytest.raises(ProfileError, match="'review'"):
        load_profile(str(path))
    path.write_text('name = "odd"\nreview = ["robots-disallowed"]\n')
    with pytest.raises(ProfileError, match="robots-disallowed"):
        load_profile(str(path))


def test_a_finding_no_longer_in_force_is_not_listed_for_review():
    stale = dataclasses.replace(_finding(), in_force=False)
    decision = decide("https://x.test/a", [stale], profile=load_profile("eu-dsm-art4"),
                      stage="after-fetch")  # fmt: skip
    assert "review" not in decision.detail
