from importlib.metadata import version

import noex_client


def test_version_matches_distribution_metadata() -> None:
    assert noex_client.__version__ == version("noex-client")


def test_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("noex_client").joinpath("py.typed").is_file()
    assert files("adapters").joinpath("py.typed").is_file()
