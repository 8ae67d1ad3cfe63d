% rebase('base.tpl', title=_('Extension features'), back_path='/admin/features')
% include('admin_nav.tpl')
<h1>{{_('Extension features')}}</h1>
% if note:
<p class="notice" id="applied">{{_(note)}}</p>
% end
<p class="hint">{{_('Users can also set these from their phone: *72/*73 forward, *90/*91 on busy, *92/*93 on no answer, *78/*79 do not disturb.')}}</p>
<table id="features">
<thead><tr><th>{{_('Extension')}}</th><th>{{_('Name')}}</th><th>{{_('Forward always')}}</th><th>{{_('Forward on busy')}}</th><th>{{_('Forward on no answer')}}</th><th>{{_('Do not disturb')}}</th><th>{{_('Mobile')}}</th><th>{{_('Voicemail')}}</th><th>{{_('Remote answer')}}</th><th></th></tr></thead>
<tbody>
% for r in rows:
<tr data-number="{{r['number']}}"><td>{{r['number']}}</td><td>{{r['name']}}</td><td>{{r['forward_always']}}</td><td>{{r['forward_busy']}}</td><td>{{r['forward_no_answer']}}</td>
<td>{{_('yes') if r['dnd'] else ''}}</td><td>{{r['mobile']}}</td><td>{{_('yes') if r['voicemail'] else ''}}</td><td>{{_('yes') if r.get('remote_answer') else ''}}</td>
<td>
% if ctx.can('site.edit'):
<a href="/admin/features/{{r['number']}}/edit">{{_('Edit')}}</a>
% end
</td></tr>
% end
</tbody></table>
<h2>{{_('Ring groups')}} ({{len(groups)}})</h2>
% if ctx.can('site.edit'):
<p><a class="button" href="/admin/ringgroups/new" id="add-group">{{_('Add ring group')}}</a></p>
% end
<table id="groups">
<thead><tr><th>{{_('Number')}}</th><th>{{_('Name')}}</th><th>{{_('Strategy')}}</th><th>{{_('Members')}}</th><th>{{_('Fallback')}}</th><th>{{_('Enabled')}}</th><th></th></tr></thead>
<tbody>
% for g in groups:
<tr data-number="{{g['number']}}"><td>{{g['number']}}</td><td>{{g['name']}}</td><td>{{_(g['strategy'])}}</td><td>{{g['members']}}</td><td>{{g['fallback']}}</td><td>{{_('yes') if g['enabled'] else _('no')}}</td>
<td>
% if ctx.can('site.edit'):
<a href="/admin/ringgroups/{{g['number']}}/edit">{{_('Edit')}}</a>
<form method="post" action="/admin/ringgroups/{{g['number']}}/delete" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button class="danger" data-confirm="{{_('Delete this entry?')}}">{{_('Delete')}}</button></form>
% end
</td></tr>
% end
</tbody></table>
