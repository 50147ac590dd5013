from django.utils import translation


def test_the_dutch_catalogue_is_compiled_and_used():
    with translation.override("nl"):
        assert translation.gettext("Sign in") == "Aanmelden"
        assert translation.gettext("Integration") == "Integratie"
