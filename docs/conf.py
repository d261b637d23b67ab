"""Sphinx settings of the course's website (`make site`; helpers/course/site.py stages these pages
beside the executed labs and runs sphinx-build)."""

from helpers.course import frontdoor

project = "The image-classification labs"
author = "The image-classification labs' authors"
copyright = "the image-classification labs' authors; code MIT, text CC BY 4.0"  # noqa: A001 (Sphinx's name)
extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

nb_execution_mode = "off"  # the labs arrive executed by the course's runner, in the profile the site shows
nb_merge_streams = True  # a lab's printed lines read as one block
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]  # widget views (lab 02's slider) fall back to their text

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "repository_url": frontdoor.repository(),
    "use_repository_button": True,
    "show_toc_level": 2,
}
