% rebase('base.tpl', title=_('Extensions'), back_path='/extensions')
<h1>{{_('Extensions')}} ({{len(rows)}})</h1>
% if note:
<p class="notice">{{note}}</p>
% end
% if ctx.can('extensions.edit'):
<p><a class="button" href="/extensions/new" id="add-extension">{{_('Add extension')}}</a></p>
% end
<table id="extensions">
<thead><tr><th>{{_('Number')}}</th><th>{{_('Name')}}</th><th>{{_('Enabled')}}</th><th>{{_('Digest')}}</th><th>{{_('Registered')}}</th><th></th></tr></thead>
<tbody>
% for e in rows:
<tr data-number="{{e.number}}">
<td>{{e.number}}</td><td>{{e.name}}</td>
<td>{{_('yes') if e.enabled else _('no')}}</td>
<td>{{e.digest_algorithms}}</td>
<td>
% regs = contacts.get(e.number, [])
% if regs:
<span class="ok">{{_('registered')}}</span>
% for r in regs:
<small>{{r.source}} {{r.user_agent}}</small>
% end
% else:
<span class="muted">{{_('not registered')}}</span>
% end
</td>
<td>
% if ctx.can('extensions.edit'):
<a href="/extensions/{{e.number}}/edit">{{_('Edit')}}</a>
% end
</td>
</tr>
% end
</tbody>
</table>
