"""Which parse function reads which command, and what Splunk calls a command at all.

Each module of this package registers its command names with :func:`command`; the parser
looks a name up in :data:`PARSERS`. A name Splunk knows (:data:`SPLUNK_COMMANDS`) that no
module registers is "not supported", any other name is "unknown".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stagehunt.spl import ast
    from stagehunt.spl.lexer import Token
    from stagehunt.spl.parser import Parser

ParseFn = Callable[["Parser", "Token"], "ast.Command"]


@dataclass(frozen=True)
class Syntax:
    parse: ParseFn
    #: a generating command must be the first of its pipeline
    generating: bool


PARSERS: dict[str, Syntax] = {}


def command(*names: str, generating: bool = False) -> Callable[[ParseFn], ParseFn]:
    """Register ``parse`` for each (lower-case) command name."""

    def wrap(parse: ParseFn) -> ParseFn:
        for name in names:
            PARSERS[name] = Syntax(parse, generating)
        return parse

    return wrap


#: Splunk's search commands (Search Reference, "Command quick reference"), for the
#: difference between "not supported here" and "no such command".
SPLUNK_COMMANDS = frozenset(
    """
    abstract accum addcoltotals addinfo addtotals analyzefields anomalies anomalousvalue
    anomalydetection append appendcols appendpipe arules associate audit autoregress bin
    bucket bucketdir chart cluster cofilter collect concurrency contingency convert
    correlate datamodel dbinspect dedup delete delta diff entitymerge erex eval eventcount
    eventstats extract kv fieldformat fields fieldsummary filldown fillnull findtypes
    folderize foreach format from gauge gentimes geom geomfilter geostats head highlight
    history iconify inputcsv inputintelligence inputlookup iplocation join kmeans kvform
    loadjob localize localop lookup makecontinuous makemv makeresults map mcollect metadata
    metasearch meventcollect mpreview msearch mstats multikv multisearch mvcombine mvexpand
    nomv outlier outputcsv outputlookup outputtext overlap pivot predict rangemap rare
    redistribute regex reltime rename replace require rest return reverse rex rtorder
    run savedsearch script scrub search searchtxn selfjoin sendalert sendemail set
    setfields sichart sirare sistats sitimechart sitop sort spath stats strcat streamstats
    table tags tail timechart timewrap tojson top transaction transpose trendline tscollect
    tstats typeahead typelearner typer union uniq untable walklex where x11 xmlkv
    xmlunescape xpath xyseries apply fit summary score fromjson
    """.split()
)

#: Splunk's generating commands: in a subsearch the first word may name one without a
#: leading pipe (``append [mstats ...]``, ``join x [inputlookup t]``).
SPLUNK_GENERATING = frozenset(
    """
    datamodel dbinspect eventcount from gentimes inputcsv inputintelligence inputlookup
    loadjob makeresults metadata metasearch mpreview msearch mstats multisearch pivot rest
    savedsearch search searchtxn set tstats union
    """.split()
)
