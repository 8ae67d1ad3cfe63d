% rebase('base.tpl', title=_('Call records'), back_path='/cdrs')
<h1>{{_('Call records')}}</h1>
<form method="get" action="/cdrs" class="filters" id="cdr-search">
<label>{{_('From')}} <input type="datetime-local" name="start" value="{{s.start}}"></label>
<label>{{_('To')}} <input type="datetime-local" name="end" value="{{s.end}}"></label>
<label>{{_('Number')}} <input name="number" value="{{s.number}}" inputmode="tel"></label>
<label>{{_('Direction')}} <select name="direction">
% for d in directions:
<option value="{{d}}" {{'selected' if s.direction == d else ''}}>{{_(d or 'any')}}</option>
% end
</select></label>
<label>{{_('Agent')}} <input name="agent" value="{{s.agent}}" size="8"></label>
<label>{{_('Queue')}} <input name="queue" value="{{s.queue}}" size="10"></label>
<label>{{_('Talk at least (s)')}} <input name="min_seconds" value="{{s.min_seconds}}" inputmode="numeric" size="5"></label>
<label>{{_('Talk at most (s)')}} <input name="max_seconds" value="{{s.max_seconds}}" inputmode="numeric" size="5"></label>
<button type="submit">{{_('Search')}}</button>
<a href="/cdrs.xlsx?{{s.link(page='')}}" id="export-xlsx">{{_('Export Excel')}}</a>
<a href="/cdrs.csv?{{s.link(page='')}}" id="export-csv">{{_('Export CSV')}}</a>
</form>
% for err in errors:
<p class="error" role="alert">{{_(err)}}</p>
% end
<table id="cdrs">
<thead><tr><th>{{_('Start')}}</th><th>{{_('Direction')}}</th><th>{{_('Caller')}}</th><th>{{_('Called')}}</th><th>{{_('Answered by')}}</th><th>{{_('Queue')}}</th><th>{{_('Talk (s)')}}</th><th>{{_('Cause')}}</th><th>{{_('Recording')}}</th></tr></thead>
<tbody>
% for c in rows:
<tr data-call-id="{{c.call_id}}">
<td><a href="/cdrs/{{c.id}}">{{local_time(c.start)}}</a></td>
<td>{{_(c.direction) if c.direction else ''}}</td><td>{{c.caller}}</td><td>{{c.called}}</td><td>{{c.callee}}</td><td>{{c.queue}}</td>
<td>{{'%.0f' % c.talk_seconds}}</td><td>{{c.cause_text}}</td>
<td>
% if c.recording:
<a href="/cdrs/{{c.id}}" class="play">{{_('Play')}}</a>
% end
</td>
</tr>
% end
</tbody>
</table>
% if not rows and not errors:
<p class="muted">{{_('No calls match.')}}</p>
% end
<p class="pager">
% if s.page > 1:
<a href="/cdrs?{{s.link(page=s.page - 1)}}">« {{_('Newer')}}</a>
% end
<span>{{_('Page {page}').format(page=s.page)}}</span>
% if more:
<a href="/cdrs?{{s.link(page=s.page + 1)}}" id="next-page">{{_('Older')}} »</a>
% end
</p>
